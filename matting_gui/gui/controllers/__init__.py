"""Controllers: the app's behaviour between the session (state) and the widgets."""
