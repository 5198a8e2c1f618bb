"""Settings values from the user's settings file are range-checked: one out of range (NaN, infinite, huge,
negative, not a number) never stops the app; its default is used and the status bar says so."""

import pytest

from matting_gui.gui.settings import Settings


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e308", "-5", "0", "big"])
def test_an_unusable_brush_radius_falls_back_to_the_default_with_a_notice(make_window, settings, value):
    settings.setValue("brush_radius", value)
    settings.setValue("band_radius", "-3")
    window = make_window()
    assert window.session.brush_radius == Settings.brush_radius.default
    assert window.toolbars.band.value() == Settings.band_radius.default
    message = window.statusBar().currentMessage()
    assert "defaults used" in message and "brush_radius=" in message and "band_radius=-3" in message


def test_values_in_range_are_kept_without_a_notice(make_window, settings):
    settings.setValue("brush_radius", "35.5")
    settings.setValue("band_radius", "40")
    window = make_window()
    assert window.session.brush_radius == 35.5 and window.toolbars.band.value() == 40
    assert "defaults used" not in window.statusBar().currentMessage()
