"""Where the app looks for data, and how names are shown."""


def test_data_folder_is_never_guessed_from_the_working_directory(tmp_path, monkeypatch):
    """An installed copy run from elsewhere must not train on whatever lies at CWD/../shared/data."""
    from matting_gui.core.files.paths import REPO_DIR, data_root

    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.delenv("MATTING_DATA", raising=False)
    assert data_root() == (REPO_DIR / ".." / "shared" / "data").resolve()
    monkeypatch.setenv("MATTING_DATA", str(tmp_path / "shared" / "data"))
    assert data_root() == tmp_path / "shared" / "data"


def test_printable_escapes_control_characters_and_undecodable_bytes():
    from matting_gui.core.files.paths import printable

    assert printable("a\nb\x1b[31m\x7f\x9b") == "a\\x0ab\\x1b[31m\\x7f\\x9b"
    assert printable(b"caf\xff".decode("utf-8", "surrogateescape")) == "caf\\udcff"
    assert printable("é ok") == "é ok"


def test_printable_escapes_bidirectional_controls():
    """U+202E (right-to-left override) would make 'photo\\u202egnp.exe' read as 'photoexe.png'."""
    from matting_gui.core.files.paths import printable

    assert printable("photo\u202egnp.exe") == "photo\\u202egnp.exe"
    assert printable("a\u2066b\u2069c\u200fd") == "a\\u2066b\\u2069c\\u200fd"
    assert printable("naïve – ok") == "naïve – ok"  # ordinary non-ASCII stays as it is
