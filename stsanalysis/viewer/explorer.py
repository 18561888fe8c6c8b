"""The cohort explorer: an ipywidgets app to look at every patient's images and at the cohort.

Tabs:

* Patient: filters (centre, grade, scanner in the demo; a study config's centre, scanner,
  outcome column and set), a patient picker (type-ahead box and list), the volumes of every
  sequence (T1 and FS-T2 in the demo) with reader 1's mask, window and opacity controls. The image
  viewer is NiiVue (``backend="niivue"``, WebGL, multiplanar and 3D rendering) or the
  plotly slice viewer (``backend="plotly"``, lighter, no WebGL).
* Readers: reader 1 and reader 2 masks side by side with Dice, Jaccard, volumes and HD95;
  with a features table, the per-feature ICC of the reliability subset.
* Cohort table, Distribution (a value by group), Scatter (two values), ROC (a threshold
  slider updating sensitivity, specificity and the 2 x 2 table).

All numbers come from the pure functions of :mod:`stsanalysis.viewer.cohort`,
:mod:`stsanalysis.viewer.agreement` and :mod:`stsanalysis.stats`; this module only wires
widgets to them. Displayed in a notebook rendered to static HTML (no kernel), the
explorer shows a short note instead; the report shows :func:`slice_viewer_figure` there.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..errors import InputError
from ..plotting.images import (
    PLANES,
    extract_slice,
    largest_mask_slice,
    read_volume,
    robust_window,
    slice_count,
    slice_viewer_figure,
)
from ..report.formatting import to_html_table
from ..stats.roc import roc
from ..validation import require_columns
from .agreement import AGREEMENT_HEADERS, mask_agreement
from .cohort import (
    CASE_COLUMNS,
    REFERENCE_READER,
    SECOND_READER,
    ExplorerData,
    classification_metrics,
    cohort_feature_table,
    filter_cohort,
    filter_options,
    numeric_columns,
    outcome_labels,
    patient_images,
    reliability_icc,
    resegmented_patients,
    two_by_two,
)
from .controls import check_backend, new_niivue, replace_figure, scrollable, set_bounds
from .figures import distribution_figure, roc_threshold_figure, scatter_figure, threshold_marker

#: Plane choices of the NiiVue viewer and their ``ipyniivue.SliceType`` values (ipyniivue is optional).
NIIVUE_SLICE_TYPES = {"axial": 0, "coronal": 1, "sagittal": 2, "multiplanar": 3, "3D render": 4}
ALL = "All"
RELIABLE_ICC = 0.75

#: Shown where the widgets cannot run (an HTML report has no kernel).
STATIC_NOTE = (
    "<p><em>The interactive cohort explorer runs in JupyterLab (open "
    "<code>notebooks/explore_cohort.ipynb</code> or run <code>stsanalysis explore</code>). "
    "This static page shows the example patient's slices below instead.</em></p>"
)


class CohortExplorer:
    """Interactive explorer of a design-B cohort (clinical table + images + masks).

    Parameters
    ----------
    clinical
        One row per patient: ``patient_id``, the ``filter_columns`` and the ``outcome``.
    cases
        One row per patient, sequence and reader: ``patient_id, sequence, reader, image,
        mask`` with paths relative to ``base_dir`` (the layout of the demo's cases.csv),
        read as extraction reads them: image files, or DICOM series folders with
        ``backend="plotly"`` (NiiVue loads files only).
    features
        Optional radiomics table (``extract_features`` output); adds its reader-1 features
        to the cohort views and the per-feature inter-reader ICC to the Readers tab.
    backend
        ``"niivue"`` (needs the ``ipyniivue`` package) or ``"plotly"``.
    outcome, class_labels
        The 0/1 outcome column; ``class_labels`` (``{0: "No lung metastasis", 1: "Lung
        metastasis"}``) names its classes in groups, colours and the 2 x 2 table (default: 0, 1).
    filter_columns, sequences
        Filters of the Patient tab; the sequences shown, in order (default: every one of ``cases``).
    reader, second_reader
        Reader labels of ``cases``: the mask drawn, and the one compared with it (None: one reader).
    patient_id
        Patient shown first; default the first patient with a second reader's mask.

    :meth:`from_data` opens what :func:`~stsanalysis.viewer.cohort.load_explorer_data` read.

    Display the object (last expression of a cell) to open it; ``widget`` is the
    ipywidgets root for embedding in another layout. ``viewers`` and ``windows`` map each
    sequence to its image viewer and its window slider.
    """

    def __init__(
        self,
        clinical: pd.DataFrame,
        cases: pd.DataFrame,
        base_dir: str | os.PathLike,
        features: pd.DataFrame | None = None,
        *,
        backend: str = "niivue",
        outcome: str = "high_grade",
        filter_columns: Sequence[str] = ("centre", "grade", "scanner"),
        patient_id: str | None = None,
        class_labels: Mapping[int, str] | None = None,
        sequences: Sequence[str] | None = None,
        reader: str = REFERENCE_READER,
        second_reader: str | None = SECOND_READER,
    ):
        check_backend(backend)
        require_columns(clinical, ["patient_id", outcome, *filter_columns], what="clinical table")
        require_columns(cases, CASE_COLUMNS, what="cases table")
        self.backend = backend
        self.outcome = outcome
        self.class_labels = dict(class_labels) if class_labels else None
        self.cases = cases
        self.base_dir = base_dir
        self.sequences = list(sequences or dict.fromkeys(cases["sequence"]))
        self.reader, self.second_reader = reader, second_reader
        self.table = cohort_feature_table(clinical, features, reader)
        if self.class_labels:
            self.table[outcome] = outcome_labels(self.table[outcome], self.class_labels, outcome)
        self.filter_columns = list(filter_columns)
        self._volumes: dict[str, tuple] = {}
        self._images: dict[str, dict] = {}
        self._panels: dict[str, widgets.VBox] = {}
        self.viewers: dict[str, widgets.Widget] = {}
        self.windows: dict[str, widgets.FloatRangeSlider] = {}
        self._icc = reliability_icc(features, reader, second_reader) if features is not None and second_reader else None

        self._make_patient_controls()
        self._make_cohort_controls()
        self.widget = self._make_tabs()
        self._connect_controls()

        self._apply_filters()
        self.patient_list.value = self._first_patient(patient_id)

    @classmethod
    def from_data(cls, data: ExplorerData, **options) -> CohortExplorer:
        """The explorer of what :func:`~stsanalysis.viewer.cohort.load_explorer_data` read;
        ``options`` are ``backend`` and ``patient_id``."""
        return cls(
            data.clinical,
            data.cases,
            data.base_dir,
            data.features,
            outcome=data.outcome,
            class_labels=data.class_labels,
            filter_columns=data.filter_columns,
            sequences=data.sequences,
            reader=data.reader,
            second_reader=data.second_reader,
            **options,
        )

    def _make_patient_controls(self) -> None:
        """Filters, patient picker and image controls (Patient tab); reader views (Readers tab)."""
        self.filters = {
            column: widgets.Dropdown(options=[ALL, *filter_options(self.table, column)], description=column)
            for column in self.filter_columns
        }
        self.patient_list = widgets.Dropdown(description="Patient")
        self.patient_search = widgets.Combobox(placeholder="type a patient id", ensure_option=True, description="Search")
        self.opacity = widgets.FloatSlider(value=0.4, min=0, max=1, step=0.05, description="Mask opacity")
        plane_options = list(NIIVUE_SLICE_TYPES) if self.backend == "niivue" else list(PLANES)
        self.plane = widgets.Dropdown(options=plane_options, value="axial", description="Plane")
        self.slice = widgets.IntSlider(description="Slice", min=0, max=0, layout={"display": "none" if self.backend == "niivue" else ""})
        self.image_views = widgets.HBox()
        self.reader_views = widgets.HBox([go.FigureWidget(), go.FigureWidget()])
        self.reader_summary = widgets.HTML()
        self.cohort_html = widgets.HTML()

    def _make_cohort_controls(self) -> None:
        """Value pickers and figures of the Distribution, Scatter and ROC tabs."""
        groups = list(dict.fromkeys([*self.filter_columns, self.outcome]))
        values = [column for column in numeric_columns(self.table) if column not in groups]
        if not values:
            raise InputError("The clinical and features tables have no numeric column to plot besides the filters and outcome.")
        self.distribution_value = widgets.Dropdown(options=values, description="Value")
        self.distribution_group = widgets.Dropdown(options=groups, value=groups[0], description="Group by")
        self.scatter_x = widgets.Dropdown(options=values, description="x")
        self.scatter_y = widgets.Dropdown(options=values, value=values[min(1, len(values) - 1)], description="y")
        self.scatter_color = widgets.Dropdown(options=groups, value=self.outcome, description="Colour")
        self.roc_score = widgets.Dropdown(options=values, description="Score")
        self.roc_threshold = widgets.FloatSlider(
            description="Threshold", readout_format=".4g", continuous_update=True, layout={"width": "480px"}
        )
        self.roc_metrics = widgets.HTML()
        self.distribution_view = go.FigureWidget()
        self.scatter_view = go.FigureWidget()
        self.roc_view = go.FigureWidget()
        self._roc = None

    def _make_tabs(self) -> widgets.Tab:
        """The six tabs: Patient, Readers, Cohort table, Distribution, Scatter, ROC."""
        return widgets.Tab(
            children=[
                widgets.VBox(
                    [
                        widgets.HBox(list(self.filters.values())),
                        widgets.HBox([self.patient_search, self.patient_list]),
                        widgets.HBox([self.plane, self.opacity, self.slice]),
                        self.image_views,
                    ]
                ),
                widgets.VBox([self.reader_summary, self.reader_views]),
                self.cohort_html,
                widgets.VBox([widgets.HBox([self.distribution_value, self.distribution_group]), self.distribution_view]),
                widgets.VBox([widgets.HBox([self.scatter_x, self.scatter_y, self.scatter_color]), self.scatter_view]),
                widgets.VBox(
                    [
                        widgets.HBox([self.roc_score, self.roc_threshold]),
                        widgets.HBox([self.roc_view, self.roc_metrics]),
                    ]
                ),
            ],
            titles=["Patient", "Readers", "Cohort table", "Distribution", "Scatter", "ROC"],
        )

    def _connect_controls(self) -> None:
        """Redraw what each control drives when its value changes."""
        for control in self.filters.values():
            control.observe(lambda _: self._apply_filters(), names="value")
        self.patient_search.observe(self._on_search, names="value")
        self.patient_list.observe(lambda change: self.show_patient(change["new"]), names="value")
        self.plane.observe(lambda _: self._draw_images(), names="value")
        self.opacity.observe(lambda change: self._set_opacity(change["new"]), names="value")
        self.slice.observe(lambda change: self._set_slice(change["new"]), names="value")
        for control in (self.distribution_value, self.distribution_group):
            control.observe(lambda _: self._draw_distribution(), names="value")
        for control in (self.scatter_x, self.scatter_y, self.scatter_color):
            control.observe(lambda _: self._draw_scatter(), names="value")
        self.roc_score.observe(lambda _: self._draw_roc(), names="value")
        self.roc_threshold.observe(lambda change: self._set_threshold(change["new"]), names="value")

    def _first_patient(self, patient_id: str | None) -> str:
        """``patient_id``, or the first patient with a second reader's mask, or the first patient."""
        reliability_subset = resegmented_patients(self.cases, self.second_reader) if self.second_reader else []
        start = patient_id or (reliability_subset[0] if reliability_subset else self.patient_list.options[0])
        if start not in self.patient_list.options:
            raise InputError(f"'patient_id' {start!r} is not in the clinical table.")
        return start

    # ------------------------------------------------------------------ display

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        # JupyterLab renders the widget; nbconvert (no widget state) falls back to the note.
        bundle["text/html"] = STATIC_NOTE
        return bundle

    # ------------------------------------------------------------------ filters and picker

    def filtered(self) -> pd.DataFrame:
        """The cohort rows passing the current filters."""
        selection = {column: None if control.value == ALL else [control.value] for column, control in self.filters.items()}
        return filter_cohort(self.table, selection)

    def _apply_filters(self) -> None:
        rows = self.filtered()
        ids = rows.index.tolist()
        current = self.patient_list.value
        self.patient_search.options = ids
        self.patient_list.options = ids
        if current in ids:
            self.patient_list.value = current
        caption = f"Clinical table: {len(rows)} of {len(self.table)} patients"
        self.cohort_html.value = scrollable(to_html_table(rows, caption=caption, index=True))
        self._draw_distribution()
        self._draw_scatter()
        self._draw_roc()

    def _on_search(self, change) -> None:
        if change["new"] in self.patient_list.options:
            self.patient_list.value = change["new"]

    # ------------------------------------------------------------------ images

    def show_patient(self, patient_id: str | None) -> None:
        """Load one patient's volumes and masks into the Patient and Readers tabs."""
        if patient_id is None:
            return
        self._images = patient_images(self.cases, self.base_dir, patient_id)
        self._volumes = {}
        for sequence in self.sequences:
            if sequence in self._images:
                entry = self._images[sequence]
                self._volumes[sequence] = (
                    read_volume(entry["image"], f"{patient_id} {sequence} image"),
                    read_volume(self._primary_mask(sequence), f"{patient_id} mask"),
                )
        self._draw_images()
        self._draw_readers(patient_id)

    def _primary_mask(self, sequence: str):
        """The mask drawn on a sequence: the primary reader's, else the patient's only one."""
        masks = self._images[sequence]["masks"]
        return masks.get(self.reader, next(iter(masks.values())))

    def _panel(self, sequence: str) -> widgets.VBox:
        """Viewer and window slider of one sequence, made once and reused for every patient:
        each new anywidget (NiiVue, plotly FigureWidget) ships megabytes of JavaScript to the browser."""
        if sequence not in self._panels:
            viewer = new_niivue() if self.backend == "niivue" else go.FigureWidget()
            window = widgets.FloatRangeSlider(description="Window", readout_format=".0f", continuous_update=False)
            window.observe(lambda change: self._set_window(sequence, change["new"]), names="value")
            self.viewers[sequence], self.windows[sequence] = viewer, window
            self._panels[sequence] = widgets.VBox([widgets.HTML(f"<b>{html.escape(str(sequence))}</b>"), viewer, window])
        return self._panels[sequence]

    def _draw_images(self) -> None:
        for sequence, (volume, mask) in self._volumes.items():
            self._panel(sequence)
            viewer, window = self.viewers[sequence], self.windows[sequence]
            image_path = self._images[sequence]["image"]
            mask_path = self._primary_mask(sequence)
            default_window = robust_window(volume.array)
            if self.backend == "niivue":
                from ipyniivue import SliceType

                viewer.set_slice_type(SliceType(NIIVUE_SLICE_TYPES[self.plane.value]))
                viewer.load_volumes(
                    [
                        {
                            "path": str(image_path),
                            "colormap": "gray",
                            "cal_min": default_window[0],
                            "cal_max": default_window[1],
                        },
                        # Mask voxels are 0/1: with cal_min 0.5 the zeros are transparent, the ones red.
                        {
                            "path": str(mask_path),
                            "colormap": "red",
                            "opacity": self.opacity.value,
                            "cal_min": 0.5,
                            "cal_max": 1.0,
                        },
                    ]
                )
            else:
                figure = slice_viewer_figure(
                    image_path, mask_path, plane=self.plane.value, window=default_window, opacity=self.opacity.value
                )
                # The ipywidgets slice slider drives this figure instead of plotly's own slider.
                replace_figure(viewer, figure.update_layout(sliders=[], width=420, height=420, margin={"b": 40}))
            set_bounds(window, float(volume.array.min()), float(volume.array.max()))
            window.value = default_window
        self.image_views.children = [self._panels[sequence] for sequence in self._volumes]
        if self.backend == "plotly" and self._volumes:
            volume, mask = next(iter(self._volumes.values()))
            self.slice.max = slice_count(volume.array.shape, self.plane.value) - 1
            self.slice.value = largest_mask_slice(mask.array, self.plane.value)

    def _set_window(self, sequence: str, window) -> None:
        viewer = self.viewers[sequence]
        if self.backend == "niivue":
            viewer.volumes[0].cal_min, viewer.volumes[0].cal_max = window
        else:
            viewer.data[0].update(zmin=window[0], zmax=window[1])

    def _set_opacity(self, opacity: float) -> None:
        for viewer in self.viewers.values():
            if self.backend == "niivue":
                viewer.volumes[1].opacity = opacity
            else:
                viewer.data[1].opacity = opacity

    def _set_slice(self, index: int) -> None:
        if self.backend != "plotly":
            return
        for sequence, viewer in self.viewers.items():
            volume, mask = self._volumes[sequence]
            image_slice = extract_slice(volume.array, self.plane.value, index)
            mask_slice = extract_slice(mask.array, self.plane.value, index)
            with viewer.batch_update():
                viewer.data[0].z = image_slice
                viewer.data[1].z = mask_slice
                viewer.data[2].z = mask_slice

    # ------------------------------------------------------------------ readers

    def _draw_readers(self, patient_id: str) -> None:
        entry = self._images.get(self.sequences[0], next(iter(self._images.values())))
        masks = entry["masks"]
        icc_summary = self._icc_summary()
        if self.second_reader is None or self.second_reader not in masks:
            self.reader_summary.value = self._one_reading_note(patient_id) + icc_summary
            self.reader_views.layout.display = "none"
            return
        first, second = masks[self.reader], masks[self.second_reader]
        agreement = mask_agreement(first, second, hausdorff=True)
        self.reader_summary.value = (
            str(
                to_html_table(
                    agreement.to_frame(),
                    caption=f"Patient {patient_id}: reader 1 vs reader 2",
                    headers=AGREEMENT_HEADERS,
                )
            )
            + icc_summary
        )
        panels = (
            (first, second, f"Reader 1 (Dice {agreement.dice:.3f})", ("Reader 1", "Reader 2")),
            (second, first, "Reader 2", ("Reader 2", "Reader 1")),
        )
        for view, (mask, other, title, names) in zip(self.reader_views.children, panels):
            replace_figure(
                view,
                slice_viewer_figure(entry["image"], mask, other, title=title, mask_names=names).update_layout(width=420),
            )
        self.reader_views.layout.display = ""

    def _one_reading_note(self, patient_id: str) -> str:
        if self.second_reader is None:
            return f"<p>One reader segmented this study: patient {html.escape(patient_id)} has one mask, with no second reading to compare.</p>"
        return (
            f"<p>Patient {html.escape(patient_id)} was segmented by reader 1 only; a second reading exists "
            f"for the reliability subset ({len(resegmented_patients(self.cases, self.second_reader))} patients).</p>"
        )

    def _icc_summary(self) -> str:
        if self.second_reader is None:
            return ""
        if self._icc is None:
            return "<p>Give a features table to see the inter-reader ICC of every feature.</p>"
        summary = (
            self._icc.groupby("sequence", sort=False)["icc"]
            .agg(n_features="size", n_reliable=lambda icc: int((icc > RELIABLE_ICC).sum()), median_icc="median")
            .reset_index()
        )
        worst = self._icc.sort_values("icc").head(20)
        return str(to_html_table(summary, caption=f"Inter-reader ICC (ICC2) per feature; reliable = ICC > {RELIABLE_ICC}")) + scrollable(
            str(to_html_table(worst, caption="The 20 least reliable features")), 300
        )

    # ------------------------------------------------------------------ cohort figures

    def _draw_distribution(self) -> None:
        figure = distribution_figure(self.filtered(), self.distribution_value.value, self.distribution_group.value)
        replace_figure(self.distribution_view, figure)

    def _draw_scatter(self) -> None:
        figure = scatter_figure(self.filtered(), self.scatter_x.value, self.scatter_y.value, self.scatter_color.value)
        replace_figure(self.scatter_view, figure)

    def _draw_roc(self) -> None:
        score = self.roc_score.value
        data = self.filtered()[[self.outcome, score]].dropna()
        labels = self.class_labels
        y = data[self.outcome] if labels is None else (data[self.outcome] == labels[1]).astype(int)
        try:
            self._roc = roc(y, data[score])
        except InputError as error:
            self._roc = None
            self.roc_view.data = []
            self.roc_metrics.value = f"<p>No ROC for this selection: {html.escape(str(error))}</p>"
            return
        youden = self._roc.youden()
        start = youden.threshold if np.isfinite(youden.threshold) else float(np.median(data[score]))
        replace_figure(self.roc_view, roc_threshold_figure(self._roc, self._roc.at(start), name=score))
        low, high = float(data[score].min()), float(data[score].max())
        set_bounds(self.roc_threshold, low, high)
        self.roc_threshold.step = (high - low) / 500 or 1.0
        self.roc_threshold.value = start
        self._set_threshold(self.roc_threshold.value)

    def _set_threshold(self, threshold: float) -> None:
        if self._roc is None:
            return
        cutoff = self._roc.at(threshold)
        marker = threshold_marker(cutoff)
        self.roc_view.data[-1].update(x=marker.x, y=marker.y, name=marker.name)
        metrics = classification_metrics(self._roc.auc, cutoff)
        labels = self.class_labels or {1: f"{self.outcome} = 1", 0: f"{self.outcome} = 0"}
        table = two_by_two(cutoff, positive=labels[1], negative=labels[0])
        self.roc_metrics.value = (
            f"<p>Test positive when <b>{html.escape(self.roc_score.value)} {html.escape(cutoff.rule)}</b></p>"
            + str(to_html_table(metrics, caption="Classification at this threshold"))
            + str(to_html_table(table, caption="2 x 2 table", index=True))
        )
