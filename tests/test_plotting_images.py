"""Slice viewer figure and its pure helpers: windowing, slice extraction, geometry."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from stsanalysis import InputError
from stsanalysis.plotting import images
from stsanalysis.plotting.images import (
    apply_window,
    extract_slice,
    largest_mask_slice,
    pixel_spacing,
    read_volume,
    robust_window,
    slice_count,
    slice_viewer_figure,
)

SPACING = (0.8, 0.8, 4.0)


def sitk_image(array_zyx, spacing=SPACING):
    image = sitk.GetImageFromArray(np.asarray(array_zyx))
    image.SetSpacing(spacing)
    return image


@pytest.fixture
def volume_and_masks():
    """A 6 (z) x 5 (y) x 4 (x) volume; the mask is largest (4 voxels) on axial slice 2."""
    array = np.arange(6 * 5 * 4, dtype=np.int16).reshape(6, 5, 4)
    mask = np.zeros_like(array, dtype=np.uint8)
    mask[1, 1, 1] = 1
    mask[2, 1:3, 1:3] = 1
    mask[3, 2, 2] = 1
    second = np.zeros_like(mask)
    second[2:4, 2:4, 2:4] = 1
    return sitk_image(array), sitk_image(mask), sitk_image(second)


def test_robust_window_is_1st_to_99th_percentile_of_body_voxels():
    # 50 air voxels (0) are below 5 % of the 99.9th percentile and left out; the body is
    # 101..200, whose 1st and 99th percentiles (linear interpolation) are 101 + 0.01 * 99
    # and 101 + 0.99 * 99.
    values = np.concatenate([np.zeros(50), np.arange(101, 201)])
    low, high = robust_window(values)
    assert low == pytest.approx(101.99, rel=1e-12)
    assert high == pytest.approx(199.01, rel=1e-12)


def test_robust_window_of_a_constant_image_has_width_one():
    assert robust_window(np.full((2, 3, 3), 7.0)) == (6.5, 7.5)


def test_apply_window_maps_linearly_and_clips():
    np.testing.assert_allclose(apply_window([0, 50, 100, 150, 200], (50, 150)), [0, 0, 0.5, 1, 1])
    with pytest.raises(InputError, match="high > low"):
        apply_window([1], (3, 3))


def test_extract_slice_in_each_plane():
    array = np.arange(2 * 3 * 4).reshape(2, 3, 4)  # z, y, x
    np.testing.assert_array_equal(extract_slice(array, "axial", 1), array[1])
    np.testing.assert_array_equal(extract_slice(array, "coronal", 2), array[:, 2, :])
    np.testing.assert_array_equal(extract_slice(array, "sagittal", 3), array[:, :, 3])
    assert [slice_count(array.shape, plane) for plane in ("axial", "coronal", "sagittal")] == [2, 3, 4]
    with pytest.raises(InputError, match="outside the axial range 0-1"):
        extract_slice(array, "axial", 2)
    with pytest.raises(InputError, match="'plane' must be one of"):
        extract_slice(array, "oblique", 0)


def test_pixel_spacing_per_plane_is_column_then_row():
    assert pixel_spacing(SPACING, "axial") == (0.8, 0.8)
    assert pixel_spacing(SPACING, "coronal") == (0.8, 4.0)
    assert pixel_spacing(SPACING, "sagittal") == (0.8, 4.0)


def test_largest_mask_slice():
    mask = np.zeros((4, 3, 3), dtype=np.uint8)
    mask[1, 0, :2] = 1  # 2 voxels
    mask[2] = 1  # 9 voxels
    mask[3, 0, 0] = 1
    assert largest_mask_slice(mask, "axial") == 2
    assert largest_mask_slice(mask, "coronal") == 0  # y = 0 holds 2 + 3 + 1 voxels
    assert largest_mask_slice(np.zeros((5, 2, 2)), "axial") == 2  # empty: middle slice


def test_figure_traces_slider_and_physical_axes(volume_and_masks):
    image, mask, second = volume_and_masks
    figure = slice_viewer_figure(image, mask, second, plane="axial", window=(10, 100), opacity=0.3, title="T1")
    assert [trace.meta for trace in figure.data] == ["image", "mask_fill", "mask_outline", "second_mask_outline"]
    assert (figure.data[0].zmin, figure.data[0].zmax) == (10, 100)
    assert figure.data[1].opacity == 0.3
    np.testing.assert_allclose(figure.data[0].x, [0, 0.8, 1.6, 2.4], rtol=1e-6)  # x in mm
    np.testing.assert_allclose(figure.data[0].y, [0, 0.8, 1.6, 2.4, 3.2], rtol=1e-6)
    assert figure.layout.yaxis.scaleanchor == "x" and figure.layout.yaxis.scaleratio == 1
    slider = figure.layout.sliders[0]
    assert len(slider.steps) == 6 and slider.active == 2  # slice where the mask is largest
    array = sitk.GetArrayFromImage(image)
    step = slider.steps[4]
    assert step.method == "restyle" and list(step.args[1]) == [0, 1, 2, 3]
    np.testing.assert_array_equal(step.args[0]["z"][0], array[4])
    np.testing.assert_array_equal(figure.data[0].z, array[2])


def test_coronal_figure_keeps_4_mm_rows(volume_and_masks):
    image, mask, _ = volume_and_masks
    figure = slice_viewer_figure(image, mask, plane="coronal")
    assert len(figure.data) == 3
    np.testing.assert_allclose(figure.data[0].y, [0, 4, 8, 12, 16, 20])  # rows are z, 4 mm apart
    assert len(figure.layout.sliders[0].steps) == 5  # y slices
    assert figure.layout.yaxis.autorange is True  # superior up, not flipped like axial


def test_default_window_is_robust_window(volume_and_masks):
    image, _, _ = volume_and_masks
    figure = slice_viewer_figure(image)
    expected = robust_window(sitk.GetArrayFromImage(image))
    assert (figure.data[0].zmin, figure.data[0].zmax) == pytest.approx(expected)
    assert len(figure.data) == 1 and figure.layout.sliders[0].active == 3  # no mask: middle slice


def test_reads_paths_and_refuses_bad_input(volume_and_masks, tmp_path):
    image, mask, _ = volume_and_masks
    image_path, mask_path = tmp_path / "image.nii.gz", tmp_path / "mask.nii.gz"
    sitk.WriteImage(image, str(image_path))
    sitk.WriteImage(mask, str(mask_path))
    from_paths = slice_viewer_figure(image_path, mask_path)
    np.testing.assert_array_equal(from_paths.data[0].z, slice_viewer_figure(image, mask).data[0].z)
    assert read_volume(image_path).spacing == pytest.approx(SPACING)
    with pytest.raises(InputError, match="does not exist"):
        slice_viewer_figure(tmp_path / "missing.nii.gz")
    with pytest.raises(InputError, match="voxel grid"):
        slice_viewer_figure(image, sitk_image(np.zeros((6, 5, 3), dtype=np.uint8)))
    with pytest.raises(InputError, match="'opacity'"):
        slice_viewer_figure(image, mask, opacity=1.5)
    with pytest.raises(InputError, match="'window'"):
        slice_viewer_figure(image, window=(5, 1))


def test_large_volumes_are_subsampled(monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS_PER_AXIS", 4)
    image = sitk_image(np.zeros((2, 3, 10), dtype=np.int16))
    figure = slice_viewer_figure(image, window=(0, 1))
    # ceil(10 / 4) = 3: every third column, 2.4 mm apart
    np.testing.assert_allclose(figure.data[0].x, [0, 2.4, 4.8, 7.2], rtol=1e-6)
