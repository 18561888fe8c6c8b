"""Image slices with tumour masks: a plotly slice viewer that works in a static HTML report.

:func:`slice_viewer_figure` draws one plane of a 3D volume (axial, coronal or sagittal) as
a grey-scale heatmap in millimetres (so anisotropic voxels, e.g. 0.8 x 0.8 x 4 mm, keep
their physical shape), the reader-1 mask as a translucent fill with its outline, a second
reader's outline in another colour, and a slider over the slices. The slider steps carry
the pixel data of every slice, so moving it needs plotly.js only, no Python kernel.

The small pure functions below (reading, windowing, slice extraction) are shared with
the interactive explorer in :mod:`stsanalysis.viewer`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from ..errors import InputError

PLANES = ("axial", "coronal", "sagittal")
#: Axis of the (z, y, x) array along which each plane's slices follow one another.
SLICE_AXIS = {"axial": 0, "coronal": 1, "sagittal": 2}

#: Largest number of pixels along any axis of the figure; larger volumes are subsampled
#: (a report figure of a 512 x 512 x 200 volume would otherwise weigh hundreds of MB).
MAX_PIXELS_PER_AXIS = 192

#: MRI air is close to zero: voxels below this fraction of the 99.9th percentile are
#: background and do not enter the automatic window.
BODY_FRACTION = 0.05

MASK_COLOR = "rgb(230, 40, 40)"
SECOND_MASK_COLOR = "rgb(0, 200, 255)"


@dataclass(frozen=True)
class Volume:
    """Voxel array in SimpleITK's (z, y, x) order and its spacing in mm as (x, y, z)."""

    array: np.ndarray
    spacing: tuple[float, float, float]


def read_volume(image, name: str = "image") -> Volume:
    """A SimpleITK image, or the path of an image file or DICOM series folder, as a :class:`Volume`.

    Paths are read by :func:`stsanalysis.radiomics.images.read_image`, the reader of feature
    extraction, so that whatever can be extracted can be looked at.
    """
    import SimpleITK as sitk

    from ..radiomics.images import CaseError, read_image

    if isinstance(image, (str, os.PathLike)):
        if not os.path.exists(image):
            raise InputError(f"'{name}' file '{image}' does not exist.")
        try:
            image = read_image(image)
        except CaseError as error:
            raise InputError(f"'{name}' file '{error.file}' cannot be read: {error}.") from error
    if not isinstance(image, sitk.Image):
        raise InputError(f"'{name}' must be a SimpleITK image or a file path; got {type(image).__name__}.")
    if image.GetDimension() != 3:
        raise InputError(f"'{name}' must be a 3D volume; got {image.GetDimension()} dimensions.")
    return Volume(sitk.GetArrayFromImage(image), tuple(float(value) for value in image.GetSpacing()))


def _matching_mask(mask, volume: Volume, name: str) -> Volume | None:
    if mask is None:
        return None
    result = read_volume(mask, name)
    if result.array.shape != volume.array.shape:
        raise InputError(f"'{name}' must have the image's voxel grid (z, y, x) {volume.array.shape}; got {result.array.shape}.")
    return Volume((result.array > 0).astype(np.uint8), result.spacing)


def robust_window(array: np.ndarray, percentiles: tuple[float, float] = (1.0, 99.0)) -> tuple[float, float]:
    """Display window (low, high): the 1st and 99th percentiles of the voxels inside the body.

    Body voxels are those brighter than 5 % of the 99.9th percentile (air in MRI is near
    zero); a few very bright or dark voxels then do not wash out the image. A constant
    image gets a window of width 1 around its value.
    """
    values = np.asarray(array, dtype=float).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise InputError("The image has no finite voxel values to derive a window from.")
    body = values[values > BODY_FRACTION * np.percentile(values, 99.9)]
    if body.size == 0:
        body = values
    low, high = (float(value) for value in np.percentile(body, percentiles))
    if high <= low:
        return low - 0.5, low + 0.5
    return low, high


def _check_window(window) -> tuple[float, float]:
    try:
        low, high = (float(value) for value in window)
    except (TypeError, ValueError):
        raise InputError(f"'window' must be a pair (low, high) of numbers; got {window!r}.") from None
    if not high > low:
        raise InputError(f"'window' must be (low, high) with high > low; got {window!r}.")
    return low, high


def apply_window(values: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """Intensities mapped linearly to [0, 1]: ``low`` and below are black, ``high`` and above white."""
    low, high = _check_window(window)
    return np.clip((np.asarray(values, dtype=float) - low) / (high - low), 0.0, 1.0)


def _check_plane(plane: str) -> None:
    if plane not in PLANES:
        raise InputError(f"'plane' must be one of {PLANES}; got {plane!r}.")


def slice_count(shape_zyx: tuple[int, int, int], plane: str) -> int:
    """Number of slices of a (z, y, x) volume in ``plane``."""
    _check_plane(plane)
    return shape_zyx[SLICE_AXIS[plane]]


def extract_slice(array_zyx: np.ndarray, plane: str, index: int) -> np.ndarray:
    """One slice as a 2D array (rows, columns) for display.

    axial: rows y, columns x (slice = z index); coronal: rows z, columns x (slice = y);
    sagittal: rows z, columns y (slice = x).
    """
    n_slices = slice_count(array_zyx.shape, plane)
    if not 0 <= index < n_slices:
        raise InputError(f"Slice index {index} is outside the {plane} range 0-{n_slices - 1}.")
    if plane == "axial":
        return array_zyx[index, :, :]
    if plane == "coronal":
        return array_zyx[:, index, :]
    return array_zyx[:, :, index]


def pixel_spacing(spacing_xyz: tuple[float, float, float], plane: str) -> tuple[float, float]:
    """(column, row) spacing in mm of the slices of ``plane``."""
    _check_plane(plane)
    x, y, z = spacing_xyz
    return {"axial": (x, y), "coronal": (x, z), "sagittal": (y, z)}[plane]


def largest_mask_slice(mask_zyx: np.ndarray, plane: str) -> int:
    """Index of the slice where the mask is largest (the middle slice when the mask is empty)."""
    n_slices = slice_count(mask_zyx.shape, plane)
    in_plane_axes = tuple(axis for axis in range(3) if axis != SLICE_AXIS[plane])
    areas = (mask_zyx > 0).sum(axis=in_plane_axes)
    return int(np.argmax(areas)) if areas.any() else n_slices // 2


def _subsample(volume: Volume) -> Volume:
    steps = [max(1, math.ceil(size / MAX_PIXELS_PER_AXIS)) for size in volume.array.shape]
    if steps == [1, 1, 1]:
        return volume
    z_step, y_step, x_step = steps
    spacing = (volume.spacing[0] * x_step, volume.spacing[1] * y_step, volume.spacing[2] * z_step)
    return Volume(volume.array[::z_step, ::y_step, ::x_step], spacing)


def _slice_data(image: Volume, masks: list[Volume | None], plane: str, index: int) -> list[np.ndarray]:
    """z of every trace for one slice: image, mask fill, mask outline, second outline.

    Arrays keep their integer types, which plotly stores compactly (base64) in the HTML.
    """
    data = [extract_slice(image.array, plane, index)]
    first, second = masks
    if first is not None:
        mask_slice = extract_slice(first.array, plane, index)
        data += [mask_slice, mask_slice]
    if second is not None:
        data.append(extract_slice(second.array, plane, index))
    return data


def _outline(z: np.ndarray, x: np.ndarray, y: np.ndarray, color: str, name: str) -> go.Contour:
    return go.Contour(
        z=z,
        x=x,
        y=y,
        contours={"start": 0.5, "end": 0.5, "size": 1, "coloring": "lines"},
        # With coloring "lines" the colour comes from the colorscale, not line.color.
        colorscale=[[0, color], [1, color]],
        line={"width": 2},
        showscale=False,
        hoverinfo="skip",
        name=name,
        showlegend=True,
    )


def slice_viewer_figure(
    image,
    mask=None,
    second_mask=None,
    plane: str = "axial",
    window: tuple[float, float] | None = None,
    opacity: float = 0.4,
    title: str | None = None,
    mask_names: tuple[str, str] = ("Reader 1", "Reader 2"),
) -> go.Figure:
    """A slice of ``image`` with the mask(s) drawn over it, and a slider over all slices.

    Parameters
    ----------
    image, mask, second_mask
        SimpleITK images or paths (NIfTI, NRRD, ... files or DICOM series folders); the
        masks on the image's voxel grid, any value > 0 counting as tumour. ``mask`` is
        filled (``opacity``) and outlined in red, ``second_mask`` (e.g. reader 2) outlined
        in cyan.
    plane
        "axial", "coronal" or "sagittal". Axes are in mm, so slices of anisotropic voxels
        keep their physical proportions; axial slices are shown with anterior at the top.
    window
        Grey-scale (low, high); default :func:`robust_window` of the whole volume.
    opacity
        Opacity of the mask fill, 0-1.

    The slider starts at the slice where ``mask`` is largest. Its steps hold every slice's
    data, so it works in a static HTML page. Volumes larger than 192 voxels along an axis
    are subsampled. Trace ``meta`` names each trace's role ("image", "mask_fill",
    "mask_outline", "second_mask_outline").
    """
    _check_plane(plane)
    if not 0 <= opacity <= 1:
        raise InputError(f"'opacity' must be between 0 and 1; got {opacity!r}.")
    volume = read_volume(image)
    masks = [_matching_mask(mask, volume, "mask"), _matching_mask(second_mask, volume, "second_mask")]
    window = _check_window(window) if window is not None else robust_window(volume.array)
    volume = _subsample(volume)
    masks = [None if m is None else _subsample(m) for m in masks]

    n_slices = slice_count(volume.array.shape, plane)
    start = largest_mask_slice(masks[0].array, plane) if masks[0] is not None else n_slices // 2
    figure = go.Figure()
    for trace in _slice_traces(volume, masks, plane, start, window, opacity, mask_names):
        figure.add_trace(trace)
    _lay_out(figure, plane, title, _slice_slider(volume, masks, plane, start, n_traces=len(figure.data)))
    return figure


def _slice_traces(
    volume: Volume,
    masks: list[Volume | None],
    plane: str,
    index: int,
    window: tuple[float, float],
    opacity: float,
    mask_names: tuple[str, str],
) -> list:
    """The traces of slice ``index``: image, mask fill and outline, second mask's outline (x, y in mm)."""
    column_spacing, row_spacing = pixel_spacing(volume.spacing, plane)
    first_slice = extract_slice(volume.array, plane, 0)
    x = np.arange(first_slice.shape[1]) * column_spacing
    y = np.arange(first_slice.shape[0]) * row_spacing
    data = _slice_data(volume, masks, plane, index)
    low, high = window
    traces = [
        go.Heatmap(
            z=data[0],
            x=x,
            y=y,
            zmin=low,
            zmax=high,
            colorscale="gray",
            showscale=False,
            hovertemplate="x %{x:.1f} mm, y %{y:.1f} mm<br>intensity %{z}<extra></extra>",
            meta="image",
        )
    ]
    if masks[0] is not None:
        traces.append(
            go.Heatmap(
                z=data[1],
                x=x,
                y=y,
                zmin=0,
                zmax=1,
                colorscale=[[0, "rgba(0, 0, 0, 0)"], [1, MASK_COLOR]],
                opacity=opacity,
                showscale=False,
                hoverinfo="skip",
                meta="mask_fill",
                name=mask_names[0],
            )
        )
        traces.append(_outline(data[2], x, y, MASK_COLOR, mask_names[0]).update(meta="mask_outline"))
    if masks[1] is not None:
        traces.append(_outline(data[-1], x, y, SECOND_MASK_COLOR, mask_names[1]).update(meta="second_mask_outline"))
    return traces


def _slice_slider(volume: Volume, masks: list[Volume | None], plane: str, start: int, n_traces: int) -> dict:
    """A plotly slider whose steps restyle every trace with one slice's data (no kernel needed)."""
    n_slices = slice_count(volume.array.shape, plane)
    slice_spacing_mm = volume.spacing[2 - SLICE_AXIS[plane]]  # spacing is (x, y, z)
    steps = [
        {
            "method": "restyle",
            "label": str(index + 1),
            "args": [{"z": _slice_data(volume, masks, plane, index)}, list(range(n_traces))],
        }
        for index in range(n_slices)
    ]
    return {
        "active": start,
        "steps": steps,
        "currentvalue": {
            "prefix": f"{plane.capitalize()} slice ",
            "suffix": f" of {n_slices} ({slice_spacing_mm:g} mm apart)",
        },
        "pad": {"t": 40},
    }


def _lay_out(figure: go.Figure, plane: str, title: str | None, slider: dict) -> None:
    """Title, legend above the image, the slider, and axes in mm with square pixels."""
    figure.update_layout(
        title=title,
        height=480,
        margin={"l": 50, "r": 20, "t": 80 if title else 40, "b": 90},  # title, then the legend above the image
        plot_bgcolor="black",
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
        sliders=[slider],
    )
    horizontal, vertical = {"axial": ("x", "y"), "coronal": ("x", "z"), "sagittal": ("y", "z")}[plane]
    figure.update_xaxes(title=f"{horizontal} (mm)", constrain="domain", showgrid=False, zeroline=False)
    figure.update_yaxes(
        title=f"{vertical} (mm)",
        scaleanchor="x",
        scaleratio=1,
        constrain="domain",
        showgrid=False,
        zeroline=False,
        autorange="reversed" if plane == "axial" else True,
    )
