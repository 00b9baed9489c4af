import numpy as np
import pytest

from denoiser.numbers import is_finite, is_number, is_whole


@pytest.mark.parametrize("value", [0, -3, 0.25, np.float32(0.5), np.int64(7), float("nan"), float("inf")])
def test_ints_and_floats_of_python_and_numpy_are_numbers(value) -> None:
    assert is_number(value)


@pytest.mark.parametrize("value", [True, np.bool_(False), "8", None, [1], np.array([1.0]), 1j])
def test_bools_strings_none_and_containers_are_not(value) -> None:
    assert not is_number(value)


def test_whole_numbers_lie_in_their_range_and_have_no_fraction() -> None:
    assert is_whole(8, 0, 8) and is_whole(8.0, 0, 8) and is_whole(np.int16(2), 2, 1024)
    assert not any(is_whole(v, 0, 8) for v in (9, -1, 1.5, float("nan"), float("inf"), True, "8"))


def test_finite_numbers_are_neither_infinite_nor_nan_and_any_int_is_one() -> None:
    assert is_finite(0.5) and is_finite(10**400) and is_finite(np.int64(-3)) and is_finite(np.float32(2))
    assert not any(is_finite(v) for v in (float("inf"), -np.inf, float("nan"), np.float32("nan"), True, None, "1"))
