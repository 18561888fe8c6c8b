"""DICOM and 3D Slicer copies of a few design-B demo patients, so that every kind of mask is exercised.

For each of :data:`DICOM_PATIENTS` the T1 volume becomes an MR series (a file per slice,
pydicom), and reader 1's tumour mask (``GTV_Mass``) with a ring of oedema around it
(``GTV_Edema``, a structure with a hole on every slice) becomes an RTSTRUCT and a SEG
(highdicom). The first patient's segmentation is also saved as a 3D Slicer ``.seg.nrrd``
cropped to the structures' bounding box (slicerio), to be placed on the NIfTI image's grid.
``cases_dicom.csv`` lists them with their ``roi``, in every form a cases table can name one.

The RTSTRUCT contours are the 0.5 level lines of each slice of the mask (contourpy): they
run between the voxel centres inside and outside, so that filling them by voxel centre
(:func:`stsanalysis.radiomics.masks.read_mask`) gives back the mask exactly (Dice 1).
UIDs derive from the seed and patient and every date is fixed: the files are
byte-identical run after run (with the same pydicom, highdicom and slicerio).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage

from .. import __version__
from ..files import atomic_write_bytes, atomic_write_text

#: Patients exported (the first also as a cropped .seg.nrrd); their T1 images and reader-1 masks.
DICOM_PATIENTS = ("B001", "B002", "B003")
#: Fixed date of every exported object (the demo's, not today's).
DEMO_DATE, DEMO_TIME = "20240601", "120000"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
RT_STRUCTURE_SET_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"


def dicom_export_available() -> bool:
    """Whether the 'dicom' extra (pydicom, highdicom, slicerio) is installed."""
    from importlib.util import find_spec

    return all(find_spec(name) is not None for name in ("pydicom", "highdicom", "slicerio", "contourpy"))


def _uid(*parts) -> str:
    from pydicom.uid import generate_uid

    return generate_uid(entropy_srcs=["stsanalysis demo", *map(str, parts)])


def _ds(values) -> list[str]:
    """DICOM decimal strings of ``values``, as precise as their 16 characters allow."""
    from pydicom.valuerep import format_number_as_ds

    return [format_number_as_ds(float(value)) for value in np.asarray(values, dtype=float).ravel()]


def _save(dataset, path: Path) -> None:
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    atomic_write_bytes(path, buffer.getvalue())


def _new_dataset(sop_class: str, sop_instance: str):
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = sop_class, sop_instance
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    dataset.SOPClassUID, dataset.SOPInstanceUID = sop_class, sop_instance
    dataset.SpecificCharacterSet = "ISO_IR 100"
    return dataset


def _copy_patient_and_study(source, target) -> None:
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyID", "StudyDate"):
        setattr(target, keyword, getattr(source, keyword))
    for keyword in ("StudyTime", "AccessionNumber", "ReferringPhysicianName"):
        setattr(target, keyword, getattr(source, keyword))


def write_dicom_series(image, folder: Path, patient_id: str, seed) -> list:
    """Write a 3-D int16 SimpleITK image as an MR series (``IM0001.dcm``, ...); return the slices' datasets."""
    import SimpleITK as sitk

    voxels = sitk.GetArrayFromImage(image).astype(np.int16)
    direction = np.reshape(image.GetDirection(), (3, 3))
    study, series, frame = (_uid(seed, patient_id, name) for name in ("study", "series", "frame"))
    slices = []
    for index, plane in enumerate(voxels):
        dataset = _new_dataset(MR_IMAGE_STORAGE, _uid(seed, patient_id, "slice", index))
        dataset.Modality, dataset.Manufacturer, dataset.SeriesDescription = "MR", "stsanalysis demo", "T1"
        dataset.PatientName, dataset.PatientID, dataset.PatientBirthDate, dataset.PatientSex = f"Demo^{patient_id}", patient_id, "", "O"
        dataset.StudyInstanceUID, dataset.SeriesInstanceUID, dataset.FrameOfReferenceUID = study, series, frame
        dataset.StudyID, dataset.StudyDate, dataset.StudyTime, dataset.AccessionNumber = "1", DEMO_DATE, DEMO_TIME, ""
        dataset.SeriesDate, dataset.SeriesTime, dataset.ContentDate, dataset.ContentTime = (DEMO_DATE, DEMO_TIME) * 2
        dataset.ReferringPhysicianName, dataset.SeriesNumber, dataset.InstanceNumber = "", 1, index + 1
        dataset.ImagePositionPatient = _ds(image.TransformIndexToPhysicalPoint((0, 0, index)))
        dataset.ImageOrientationPatient = _ds(np.concatenate([direction[:, 0], direction[:, 1]]))
        dataset.PixelSpacing = _ds([image.GetSpacing()[1], image.GetSpacing()[0]])
        dataset.SliceThickness = dataset.SpacingBetweenSlices = _ds([image.GetSpacing()[2]])[0]
        dataset.Rows, dataset.Columns = plane.shape
        dataset.SamplesPerPixel, dataset.PhotometricInterpretation = 1, "MONOCHROME2"
        dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit, dataset.PixelRepresentation = 16, 16, 15, 1
        dataset.PixelData = plane.tobytes()
        _save(dataset, folder / f"IM{index + 1:04d}.dcm")
        slices.append(dataset)
    return slices


def slice_contours(plane: np.ndarray) -> list[np.ndarray]:
    """Closed outlines (x, y in voxel units) of the 1-voxels of a 2-D mask: its 0.5 level lines, holes included."""
    import contourpy

    generator = contourpy.contour_generator(z=np.pad(plane.astype(float), 1), line_type=contourpy.LineType.Separate)
    return [line[:-1] - 1.0 for line in generator.lines(0.5)]  # a closed line repeats its first point


def _contour_item(slice_dataset, outline: np.ndarray):
    from pydicom.dataset import Dataset

    origin = np.asarray(slice_dataset.ImagePositionPatient, dtype=float)
    orientation = np.asarray(slice_dataset.ImageOrientationPatient, dtype=float).reshape(2, 3)
    orientation = (orientation / np.linalg.norm(orientation, axis=1, keepdims=True)).ravel()  # as ITK reads a series
    row_spacing, column_spacing = (float(value) for value in slice_dataset.PixelSpacing)
    points = origin + np.outer(outline[:, 0] * column_spacing, orientation[:3]) + np.outer(outline[:, 1] * row_spacing, orientation[3:])
    reference = Dataset()
    reference.ReferencedSOPClassUID, reference.ReferencedSOPInstanceUID = slice_dataset.SOPClassUID, slice_dataset.SOPInstanceUID
    contour = Dataset()
    contour.ContourImageSequence = [reference]
    contour.ContourGeometricType, contour.NumberOfContourPoints = "CLOSED_PLANAR", len(points)
    contour.ContourData = _ds(points)
    return contour


def write_rtstruct(path: Path, slices: list, structures: dict[str, np.ndarray], seed) -> None:
    """An RTSTRUCT of ``structures`` drawn on the series ``slices``.

    Each structure is a 0/1 array (z, y, x), outlined slice by slice with
    :func:`slice_contours`, or a list of ``(slice index, outline)`` with outlines as (x, y)
    voxel coordinates, written as they are (e.g. a hole as a second outline inside the first).
    """
    from pydicom.dataset import Dataset

    first = slices[0]
    dataset = _new_dataset(RT_STRUCTURE_SET_STORAGE, _uid(seed, first.PatientID, "rtstruct"))
    _copy_patient_and_study(first, dataset)
    dataset.Modality, dataset.Manufacturer, dataset.SeriesInstanceUID = "RTSTRUCT", "stsanalysis demo", _uid(seed, first.PatientID, "rts")
    dataset.SeriesNumber, dataset.InstanceNumber, dataset.StructureSetLabel = 2, 1, "reader1"
    dataset.StructureSetDate, dataset.StructureSetTime = DEMO_DATE, DEMO_TIME
    images = [Dataset() for _ in slices]
    for item, slice_dataset in zip(images, slices):
        item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = slice_dataset.SOPClassUID, slice_dataset.SOPInstanceUID
    series, study, frame = Dataset(), Dataset(), Dataset()
    series.SeriesInstanceUID, series.ContourImageSequence = first.SeriesInstanceUID, images
    study.ReferencedSOPClassUID, study.ReferencedSOPInstanceUID = "1.2.840.10008.3.1.2.3.1", first.StudyInstanceUID
    study.RTReferencedSeriesSequence = [series]
    frame.FrameOfReferenceUID, frame.RTReferencedStudySequence = first.FrameOfReferenceUID, [study]
    dataset.ReferencedFrameOfReferenceSequence = [frame]
    dataset.StructureSetROISequence, dataset.ROIContourSequence, dataset.RTROIObservationsSequence = [], [], []
    for number, (name, mask) in enumerate(structures.items(), start=1):
        roi, contours, observation = Dataset(), Dataset(), Dataset()
        roi.ROINumber, roi.ReferencedFrameOfReferenceUID, roi.ROIName, roi.ROIGenerationAlgorithm = (
            number,
            first.FrameOfReferenceUID,
            name,
            "MANUAL",
        )
        contours.ReferencedROINumber, contours.ROIDisplayColor = number, [255, 0, 0] if number == 1 else [255, 200, 0]
        outlines = [(z, outline) for z in range(len(mask)) for outline in slice_contours(mask[z])] if isinstance(mask, np.ndarray) else mask
        contours.ContourSequence = [_contour_item(slices[z], np.asarray(outline, dtype=float)) for z, outline in outlines]
        observation.ObservationNumber, observation.ReferencedROINumber = number, number
        observation.RTROIInterpretedType, observation.ROIInterpreter = "GTV", ""
        dataset.StructureSetROISequence.append(roi)
        dataset.ROIContourSequence.append(contours)
        dataset.RTROIObservationsSequence.append(observation)
    _save(dataset, path)


def write_seg(path: Path, slices: list, structures: dict[str, np.ndarray], seed) -> None:
    """A binary DICOM SEG (highdicom) of ``structures`` on the series ``slices``, segment numbers in order from 1."""
    import highdicom
    from pydicom.sr.codedict import codes

    kinds = {"GTV_Edema": codes.SCT.Edema}
    descriptions = [
        highdicom.seg.SegmentDescription(
            segment_number=number,
            segment_label=name,
            segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
            segmented_property_type=kinds.get(name, codes.SCT.Neoplasm),
            algorithm_type=highdicom.seg.SegmentAlgorithmTypeValues.MANUAL,
        )
        for number, name in enumerate(structures, start=1)
    ]
    patient = slices[0].PatientID
    segmentation = highdicom.seg.Segmentation(
        source_images=slices,
        pixel_array=np.stack([mask.astype(bool) for mask in structures.values()], axis=-1),
        segmentation_type=highdicom.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=_uid(seed, patient, "seg series"),
        series_number=3,
        sop_instance_uid=_uid(seed, patient, "seg"),
        instance_number=1,
        manufacturer="stsanalysis demo",
        manufacturer_model_name="stsanalysis",
        software_versions=__version__,
        device_serial_number="0",
    )
    # highdicom stamps the time of writing and a new dimension organisation UID: fix them
    for keyword in ("InstanceCreation", "Content", "Series"):
        setattr(segmentation, f"{keyword}Date", DEMO_DATE)
        setattr(segmentation, f"{keyword}Time", DEMO_TIME)
    for item in segmentation.get("ContributingEquipmentSequence", []):
        item.ContributionDateTime = DEMO_DATE + DEMO_TIME
    organisation = _uid(seed, patient, "seg dimensions")
    for item in [*segmentation.DimensionOrganizationSequence, *segmentation.DimensionIndexSequence]:
        item.DimensionOrganizationUID = organisation
    _save(segmentation, path)


def write_cropped_slicer_segmentation(path: Path, image, structures: dict[str, np.ndarray]) -> None:
    """A 3D Slicer ``.seg.nrrd`` of ``structures`` cropped to their bounding box (as Slicer saves a segmentation)."""
    import slicerio

    union = np.any(np.stack(list(structures.values())), axis=0)
    low = np.array([indices.min() for indices in np.nonzero(union)])  # z, y, x
    high = np.array([indices.max() + 1 for indices in np.nonzero(union)])
    crop = tuple(slice(a, b) for a, b in zip(low, high))
    ijk_to_lps = np.eye(4)
    ijk_to_lps[:3, :3] = np.reshape(image.GetDirection(), (3, 3)) * np.asarray(image.GetSpacing())
    ijk_to_lps[:3, 3] = image.TransformIndexToPhysicalPoint(tuple(int(value) for value in low[::-1]))
    segmentation = slicerio.create_segmentation(tuple(high[::-1] - low[::-1]), ijk_to_lps)
    colours = ([0.9, 0.2, 0.2], [1.0, 0.8, 0.0])
    for (name, mask), colour in zip(structures.items(), colours):
        slicerio.add_segment(segmentation, mask[crop].transpose(2, 1, 0).astype(bool), {"id": name, "name": name, "color": colour})
    buffer = io.BytesIO()
    slicerio.write_segmentation(buffer, segmentation)
    # pynrrd writes the time of writing as a comment: drop it, so that the file depends on its content only
    atomic_write_bytes(path, re.sub(rb"\n# on [^\n]*\(GMT\)\.\n", b"\n", buffer.getvalue(), count=1))


def oedema_ring(mask: np.ndarray, width: int = 3) -> np.ndarray:
    """A ring ``width`` voxels wide around ``mask`` on each slice (z, y, x): a structure with a hole."""
    grown = ndimage.binary_dilation(mask.astype(bool), structure=np.ones((1, 3, 3), bool), iterations=width)
    return (grown & ~mask.astype(bool)).astype(np.uint8)


def export_dicom_cases(directory: Path, seed) -> Path:
    """Write ``dicom/<patient>/`` (series, RTSTRUCT, SEG; the first also a cropped .seg.nrrd) and ``cases_dicom.csv``."""
    import SimpleITK as sitk

    rows = []
    for index, patient in enumerate(DICOM_PATIENTS):
        image_path = f"images/{patient}_T1.nii.gz"
        image = sitk.ReadImage(str(directory / image_path))
        mass = sitk.GetArrayFromImage(sitk.ReadImage(str(directory / "masks" / f"{patient}_reader1.nii.gz")))
        structures = {"GTV_Mass": mass, "GTV_Edema": oedema_ring(mass)}
        folder = Path("dicom") / patient
        slices = write_dicom_series(image, directory / folder / "T1", patient, seed)
        write_rtstruct(directory / folder / "rtstruct.dcm", slices, structures, seed)
        write_seg(directory / folder / "seg.dcm", slices, structures, seed)
        series = (folder / "T1").as_posix()
        # the structure named in each way a cases table can: name, file#name, regular expression, segment number, label
        rtstruct_roi = [("rtstruct.dcm", "GTV_Mass"), ("rtstruct.dcm#GTV_Mass", ""), ("rtstruct.dcm", "gtv_m.*")][index]
        seg_roi = ["1", "GTV_Mass", "GTV_Mass"][index]
        rows.append((patient, "T1", "reader1_rtstruct", series, (folder / rtstruct_roi[0]).as_posix(), rtstruct_roi[1]))
        rows.append((patient, "T1", "reader1_seg", series, (folder / "seg.dcm").as_posix(), seg_roi))
        if index == 0:
            write_cropped_slicer_segmentation(directory / folder / "segmentation.seg.nrrd", image, structures)
            rows.append((patient, "T1", "reader1_slicer", image_path, (folder / "segmentation.seg.nrrd").as_posix(), "GTV_Mass"))
    cases = pd.DataFrame(rows, columns=["patient_id", "sequence", "reader", "image", "mask", "roi"])
    atomic_write_text(directory / "cases_dicom.csv", cases.to_csv(index=False))
    return directory / "cases_dicom.csv"
