import numpy as np
import pytest

from denoiser import interpolation


def test_both_paths_start_and_end_at_the_two_vectors():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=8), rng.normal(size=8)
    for path in interpolation.PATHS:
        ends = interpolation.points(path, a, b, [0.0, 1.0])
        np.testing.assert_allclose(ends, np.stack([a, b]), atol=1e-5)


def test_spherical_keeps_the_length_where_the_line_cuts_the_corner():
    a, b = np.array([3.0, 0.0]), np.array([0.0, 3.0])
    (line,) = interpolation.points("linear", a, b, 0.5)
    (arc,) = interpolation.points("spherical", a, b, 0.5)
    np.testing.assert_allclose(line, [1.5, 1.5])
    np.testing.assert_allclose(arc, [3 / np.sqrt(2), 3 / np.sqrt(2)], rtol=1e-6)
    third = interpolation.points("spherical", a, b, 1 / 3)[0]
    assert np.linalg.norm(third) == pytest.approx(3.0) and np.arctan2(third[1], third[0]) == pytest.approx(
        np.pi / 6)


def test_spherical_falls_back_to_the_line_for_parallel_vectors():
    a = np.array([1.0, 2.0])
    np.testing.assert_allclose(interpolation.points("spherical", a, 2 * a, [0.5]), [1.5 * a], rtol=1e-6)


def test_unknown_path_lists_the_known_ones():
    with pytest.raises(ValueError, match="linear, spherical"):
        interpolation.points("cubic", np.zeros(2), np.ones(2), 0.5)
