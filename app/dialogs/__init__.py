"""Dialogs: who is annotating (asked when a project opens), the keyboard help/configuration, and
keep-theirs-or-apply-mine when a team edit clashes with someone else's."""
