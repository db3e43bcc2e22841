from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from organizations.selectors import membership_list_for_user

from .forms import ProfileForm
from .services import user_update_profile


@login_required
def profile(request):
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=request.user)
        if form.is_valid():
            user_update_profile(user=request.user, **form.cleaned_data)
            messages.success(request, _("Your profile has been saved."))
            return redirect("profile")
    else:
        form = ProfileForm(instance=request.user)
    return render(
        request,
        "users/profile.html",
        {
            "form": form,
            "memberships": membership_list_for_user(user=request.user),
        },
    )
