"""The editing model, Qt-free: trimap rules, the editable trimap, the editor session, views, events."""
