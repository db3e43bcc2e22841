from django.dispatch import Signal

# Sent after commit when an invitation became a membership; later apps (for
# example bulk enrolment by HR) listen to enrol the new member.
invitation_accepted = Signal()
