"""Requests between authorities: guided drafting (MLA, extradition...), the document, the advance copy over encrypted
messaging, and one register both authorities share, with signed status events in order and reminders.

Only what tracking needs (States, authorities, form, measures, dates, status, references) is in the clear; the
content of a request and the notes of its events are sealed like messages (docs/security/requests.md)."""
