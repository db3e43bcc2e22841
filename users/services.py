from django.db import transaction

from .models import User


@transaction.atomic
def user_update_profile(*, user: User, name: str, latin_name: str, phone: str) -> User:
    user.name = name.strip()
    user.latin_name = latin_name.strip()
    user.phone = phone.strip()
    user.full_clean()
    user.save(update_fields=["name", "latin_name", "phone"])
    return user
