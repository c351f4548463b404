"""Dialogs: who is annotating (asked when a project opens) and the keyboard help/configuration."""
