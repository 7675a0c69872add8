"""Text measured without a font: wide enough for the fonts the map asks for, wrapped to fit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from backoffice.mapping.text_width import fit_lines, text_width


def test_digits_measure_as_bold_dejavu_draws_them():
    assert round(text_width("0123456789", 10), 6) == 69.6  # 0.696 em each


def test_capitals_are_wider_than_small_letters_and_unknown_characters_take_a_full_em():
    assert text_width("W", 12) > text_width("w", 12) > text_width("i", 12)
    assert text_width("申", 10) == 10 and text_width("é", 10) >= text_width("e", 10)


def test_a_name_that_fits_is_left_whole_and_a_long_one_wraps_at_spaces():
    assert fit_lines("Approve", 130, 12) == ["Approve"]
    assert fit_lines("W_Completeren aanvraag", 130, 12) == ["W_Completeren", "aanvraag"]


def test_a_name_too_long_for_its_lines_ends_in_an_ellipsis():
    lines = fit_lines("Declaration FINAL_APPROVED by SUPERVISOR and then by the BUDGET OWNER", 130, 12, lines=2)
    assert len(lines) == 2 and lines[-1].endswith("…")


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=120),
       st.integers(min_value=1, max_value=4), st.floats(min_value=40, max_value=300))
def test_every_line_fits_its_width_and_there_are_never_more_lines_than_asked(text, lines, width):
    fitted = fit_lines(text, width, 12, lines=lines)
    assert len(fitted) <= lines
    for line in fitted:
        # A single character wider than the room is the one thing that cannot be made to fit.
        assert text_width(line, 12) <= width or len(line.rstrip("…")) <= 1
