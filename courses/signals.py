from django.dispatch import Signal

# Sent exactly once per completed enrolment, after the transaction commits,
# with the keyword argument ``enrollment``. certificates issues on it.
course_completed = Signal()
