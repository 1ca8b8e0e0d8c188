"""gunicorn reads this file from the working directory: access-log lines go through a
logger that removes secret URLs (calendar feed, one-click links, invitations, reset keys)."""

logger_class = "referralcrm.logfilters.RedactingGunicornLogger"
