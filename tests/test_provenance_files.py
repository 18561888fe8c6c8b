"""Provenance hashes every image and mask file and DICOM folder of the cases table, with a hash cache.

Replacing an image in place must change the report's record; an unchanged file must not be
read again on a warm run (file reads are counted by wrapping ``sha256_file``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import urllib.parse
from pathlib import Path

import pandas as pd
import pytest

from stsanalysis.errors import InputError
from stsanalysis.files import sha256_file
from stsanalysis.report import file_hashes, provenance
from stsanalysis.report.file_hashes import CACHE_FILE, FileHashCache, case_file_hashes, folder_digest

#: A modification time well in the past (hashes of files modified in the last seconds are not remembered).
OLD = time.time_ns() - 3_600 * 10**9


def _set_mtime(path: Path, mtime_ns: int = OLD) -> None:
    os.utime(path, ns=(mtime_ns, mtime_ns))


@pytest.fixture
def study(tmp_path) -> Path:
    """A cases table (relative paths) of two patients: NIfTI-named files, one shared mask, and a DICOM folder."""
    folder = tmp_path / "study"
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    files = {
        "images/P1_T1.nii.gz": b"image one" * 100,
        "images/P1_T2.nii.gz": b"image two" * 100,
        "masks/P1.nii.gz": b"mask one" * 10,
        "masks/P2.nii.gz": b"mask two" * 10,
        "images/P2_dicom/slice001.dcm": b"slice 1" * 50,
        "images/P2_dicom/slice002.dcm": b"slice 2" * 50,
        "images/P2_dicom/sub/slice003.dcm": b"slice 3" * 50,
    }
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
        _set_mtime(folder / name)
    pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P2"],
            "sequence": ["T1", "T2", "T1"],
            "image": ["images/P1_T1.nii.gz", "images/P1_T2.nii.gz", "images/P2_dicom"],
            "mask": ["masks/P1.nii.gz", "masks/P1.nii.gz", "masks/P2.nii.gz"],
        }
    ).to_csv(folder / "cases.csv", index=False)
    return folder


@pytest.fixture
def reads(monkeypatch) -> list[Path]:
    """The files read for hashing."""
    read: list[Path] = []

    def counting(path):
        read.append(Path(path))
        return sha256_file(path)

    monkeypatch.setattr(file_hashes, "sha256_file", counting)
    return read


def test_every_image_and_mask_is_hashed_by_the_documented_recipes(study):
    hashes = case_file_hashes(study / "cases.csv")
    table = hashes.files.set_index("path")
    assert list(table.index) == ["images/P1_T1.nii.gz", "images/P1_T2.nii.gz", "images/P2_dicom", "masks/P1.nii.gz", "masks/P2.nii.gz"]
    assert table.loc["images/P1_T1.nii.gz", "sha256"] == sha256_file(study / "images/P1_T1.nii.gz")
    # a folder: SHA-256 of the JSON of its sorted [relative path, file SHA-256] pairs
    dicom = study / "images/P2_dicom"
    pairs = sorted([p.relative_to(dicom).as_posix(), sha256_file(p)] for p in dicom.rglob("*") if p.is_file())
    assert table.loc["images/P2_dicom", "sha256"] == hashlib.sha256(json.dumps(pairs, separators=(",", ":")).encode()).hexdigest()
    assert table.loc["images/P2_dicom", ["kind", "n_files"]].tolist() == ["folder", 3]
    assert (hashes.n_files, hashes.n_missing) == (7, 0)  # the shared mask once
    assert hashes.n_bytes == sum(p.stat().st_size for p in study.rglob("*") if p.is_file() and p.name != "cases.csv")
    assert hashes.sha256 == folder_digest(zip(table.index, table["sha256"]))
    assert hashes.summary() == f"Images and masks: 7 files, combined SHA-256 {hashes.sha256[:16]}…"


def test_hash_does_not_depend_on_the_working_folder_or_where_the_study_lies(study, tmp_path, monkeypatch):
    first = case_file_hashes(study / "cases.csv").sha256
    monkeypatch.chdir(study / "images")
    assert case_file_hashes("../cases.csv").sha256 == first  # relative paths resolve from the cases file's folder
    moved = tmp_path / "moved"
    study.rename(moved)
    assert case_file_hashes(moved / "cases.csv").sha256 == first


def test_warm_run_reads_no_file_and_gives_the_same_hashes(study, tmp_path, reads):
    cache = tmp_path / "cache"
    cold = case_file_hashes(study / "cases.csv", cache_dir=cache)
    assert len(reads) == 7 and (cache / CACHE_FILE).is_file()
    assert not [path for path in (cache / CACHE_FILE).parent.iterdir() if path.suffix == ".tmp"]  # written atomically
    reads.clear()
    warm = case_file_hashes(study / "cases.csv", cache_dir=cache)
    assert reads == []
    assert warm.sha256 == cold.sha256
    pd.testing.assert_frame_equal(warm.files, cold.files)


def test_image_replaced_in_place_with_a_new_mtime_changes_provenance(study, tmp_path, reads):
    cache = tmp_path / "cache"
    before = case_file_hashes(study / "cases.csv", cache_dir=cache)
    image = study / "images/P1_T1.nii.gz"
    image.write_bytes(b"IMAGE ONE" * 100)  # same size, other content
    _set_mtime(image, OLD + 10**9)
    reads.clear()
    after = case_file_hashes(study / "cases.csv", cache_dir=cache)
    assert reads == [image]  # only the changed file is read again
    assert after.sha256 != before.sha256
    changed = after.files.set_index("path")["sha256"] != before.files.set_index("path")["sha256"]
    assert list(changed[changed].index) == ["images/P1_T1.nii.gz"]


def test_image_replaced_with_its_old_size_and_mtime_is_still_caught_by_the_change_time(study, tmp_path, reads):
    cache = tmp_path / "cache"
    before = case_file_hashes(study / "cases.csv", cache_dir=cache)
    image = study / "images/P1_T1.nii.gz"
    stat = image.stat()
    time.sleep(0.01)  # a change time after the cached one
    image.write_bytes(b"IMAGE ONE" * 100)
    os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as `cp -p` or a restore keeps the time
    assert (image.stat().st_size, image.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    reads.clear()
    after = case_file_hashes(study / "cases.csv", cache_dir=cache)
    assert reads == [image] and after.sha256 != before.sha256


def test_a_touched_file_is_read_again_but_provenance_is_unchanged(study, tmp_path, reads):
    cache = tmp_path / "cache"
    before = case_file_hashes(study / "cases.csv", cache_dir=cache)
    mask = study / "masks/P2.nii.gz"
    _set_mtime(mask, OLD + 5 * 10**9)
    reads.clear()
    after = case_file_hashes(study / "cases.csv", cache_dir=cache)
    assert reads == [mask] and after.sha256 == before.sha256


def test_recently_modified_files_are_hashed_but_not_remembered(study, tmp_path, reads):
    cache = tmp_path / "cache"
    (study / "masks/P1.nii.gz").write_bytes(b"fresh mask")  # modified now: a same-tick rewrite could keep its times
    first = case_file_hashes(study / "cases.csv", cache_dir=cache)
    reads.clear()
    second = case_file_hashes(study / "cases.csv", cache_dir=cache)
    assert reads == [study / "masks/P1.nii.gz"] and second.sha256 == first.sha256


def test_dicom_folder_hash_changes_with_a_slice_added_renamed_or_rewritten(study, tmp_path):
    cache = tmp_path / "cache"
    dicom = study / "images/P2_dicom"

    def folder_hash():
        return case_file_hashes(study / "cases.csv", cache_dir=cache).files.set_index("path").loc["images/P2_dicom", "sha256"]

    seen = [folder_hash()]
    (dicom / "slice004.dcm").write_bytes(b"slice 4")
    seen.append(folder_hash())
    (dicom / "slice004.dcm").rename(dicom / "slice005.dcm")
    seen.append(folder_hash())
    (dicom / "slice001.dcm").write_bytes(b"SLICE 1" * 50)
    _set_mtime(dicom / "slice001.dcm", OLD + 10**9)
    seen.append(folder_hash())
    assert len(set(seen)) == 4
    assert FileHashCache().hash_path(dicom).n_files == 4


def test_a_real_dicom_series_folder_is_hashed(tmp_path):
    import SimpleITK as sitk
    from conftest import write_dicom_series

    write_dicom_series(sitk.Image([4, 4, 3], sitk.sitkInt16), tmp_path / "series")
    hashed = FileHashCache().hash_path(tmp_path / "series")
    assert (hashed.kind, hashed.n_files) == ("folder", 3)
    pairs = [(f"slice{z:03d}.dcm", sha256_file(tmp_path / "series" / f"slice{z:03d}.dcm")) for z in range(3)]
    assert hashed.sha256 == folder_digest(pairs)


def test_a_missing_file_is_an_input_error_naming_it(study):
    missing = study / "images/P1_T2.nii.gz"
    missing.unlink()
    with pytest.raises(InputError, match=re.escape(f"image file '{missing}' of patient 'P1'")) as raised:
        case_file_hashes(study / "cases.csv")
    assert "does not exist" in str(raised.value)
    listed = case_file_hashes(study / "cases.csv", missing="list")
    row = listed.files.set_index("path").loc["images/P1_T2.nii.gz"]
    assert row["kind"] == "missing" and row["sha256"] is None
    assert listed.n_missing == 1 and "1 listed file(s) missing" in listed.summary()
    with pytest.raises(InputError, match="'missing' must be"):
        case_file_hashes(study / "cases.csv", missing="skip")


def test_a_missing_cases_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        case_file_hashes(tmp_path / "nope.csv")


def test_renamed_columns_and_a_structure_suffix(study):
    cases = pd.read_csv(study / "cases.csv").rename(columns={"image": "Image file", "mask": "Mask file"})
    cases.loc[0, "Mask file"] = "masks/P1.nii.gz#GTV_Mass"  # a named structure of the mask file
    cases.to_csv(study / "renamed.csv", index=False)
    hashes = case_file_hashes(study / "renamed.csv", {"image": "Image file", "mask": "Mask file"})
    table = hashes.files.set_index("path")
    assert table.loc["masks/P1.nii.gz", "sha256"] == sha256_file(study / "masks/P1.nii.gz")
    assert hashes.n_missing == 0


def test_an_unreadable_cache_is_ignored_and_rewritten(study, tmp_path, reads):
    cache = tmp_path / "cache"
    (cache / CACHE_FILE).parent.mkdir(parents=True)
    (cache / CACHE_FILE).write_text("{not json")
    case_file_hashes(study / "cases.csv", cache_dir=cache)
    assert len(reads) == 7
    assert json.loads((cache / CACHE_FILE).read_text())["version"] == 1


def test_a_cache_folder_that_cannot_be_written_only_costs_time(study, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(file_hashes, "atomic_write_text", refuse)
    assert case_file_hashes(study / "cases.csv", cache_dir=tmp_path / "cache").sha256 == case_file_hashes(study / "cases.csv").sha256


# ----------------------------------------------------------------------------- the report's provenance


def _shown(parameters, monkeypatch) -> str:
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    provenance.display_provenance(parameters)
    return "\n".join(item.data if hasattr(item, "data") else str(item) for item in shown)


def test_report_shows_one_summary_row_and_the_list_as_a_download(study, tmp_path, monkeypatch):
    parameters = {"cases_path": str(study / "cases.csv"), "cache_dir": str(tmp_path / "cache"), "seed": 1}
    html = _shown(parameters, monkeypatch)
    hashes = case_file_hashes(study / "cases.csv")
    assert "cases_path: images and masks" in html and hashes.sha256 in html
    assert "7 files (3 in 1 folder(s), e.g. DICOM series) named by" in html
    assert f"Images and masks: 7 files, combined SHA-256 {hashes.sha256[:16]}… (download the list below)." in html
    assert "P1_T1.nii.gz" not in html.split("image_mask_sha256.csv")[0]  # no row per file in the table
    payload = re.search(r'download="image_mask_sha256\.csv" href="data:text/csv;charset=utf-8,([^"]*)"', html).group(1)
    listed = pd.read_csv(pd.io.common.StringIO(urllib.parse.unquote(payload)))
    assert list(listed.columns) == list(file_hashes.FILE_COLUMNS) and len(listed) == 5
    assert (tmp_path / "cache" / CACHE_FILE).is_file()  # the report used the study's cache folder
    assert "cache_dir" not in provenance.input_files(parameters)["parameter"].tolist()  # derived from the inputs, not one


def test_report_provenance_changes_when_an_image_is_replaced_in_place(study, tmp_path, monkeypatch):
    parameters = {"cases_path": str(study / "cases.csv"), "cache_dir": str(tmp_path / "cache")}
    first = _shown(parameters, monkeypatch)
    assert _shown(parameters, monkeypatch) == first
    image = study / "images/P1_T2.nii.gz"
    image.write_bytes(b"IMAGE TWO" * 100)
    _set_mtime(image, OLD + 10**9)
    assert _shown(parameters, monkeypatch) != first


def test_report_without_cases_table_lists_only_its_parameter_files(tmp_path, monkeypatch):
    table = tmp_path / "clinical.csv"
    table.write_text("a\n1\n")
    html = _shown({"clinical_path": str(table), "cases_path": ""}, monkeypatch)
    assert sha256_file(table) in html and "images and masks" not in html
    assert provenance.case_images({"cases_path": str(tmp_path / "absent.csv")}) is None


def test_report_lists_a_missing_image_instead_of_failing(study, monkeypatch):
    (study / "masks/P2.nii.gz").unlink()
    html = _shown({"cases_path": str(study / "cases.csv")}, monkeypatch)
    assert "1 listed file(s) missing" in html
