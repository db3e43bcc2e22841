from organizations.permissions import user_roles

# Roles that work in the Wagtail admin.
_ADMIN_ROLES = {"expert", "coordinator"}


def can_use_editor_desk(user) -> bool:
    """Experts, coordinators and superusers work in the Wagtail admin.

    Answered from the roles already loaded for the navigation, so asking it on
    every page costs no query (Wagtail's own admin-access check costs two).
    """
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or bool(_ADMIN_ROLES & user_roles(user))
