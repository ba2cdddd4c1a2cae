"""ptref.data.idx: IDX files, gz or raw, and clear errors for broken ones."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch
from idx_writer import idx_bytes, write_idx

from ptref.data.idx import IDXError, find_idx_pair, read_idx, read_images_and_labels


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
@pytest.mark.parametrize("dtype", ["uint8", "int16", "float32"])
def test_read_idx_returns_the_array_written(tmp_path, gz, dtype):
    array = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(dtype)
    path = write_idx(tmp_path / "x-idx3", array, gz)
    np.testing.assert_array_equal(read_idx(path).numpy(), array)


def test_gzip_is_recognised_by_content_not_by_name(tmp_path):
    labels = np.array([3, 1, 4], dtype=np.uint8)
    path = tmp_path / "t10k-labels-idx1-ubyte"  # no .gz, but gzip inside (as some mirrors ship it)
    path.write_bytes(gzip.compress(idx_bytes(labels)))
    np.testing.assert_array_equal(read_idx(path).numpy(), labels)


def test_wrong_magic_number_names_the_file_and_the_fix(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"\x12\x34\x08\x03" + bytes(100))
    with pytest.raises(IDXError, match=r"train-images-idx3-ubyte: not an IDX file, magic number 12340803.*fetch it"):
        read_idx(path)


def test_an_html_page_instead_of_idx_is_called_a_failed_download(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(b"<!DOCTYPE html><html>Not Found</html>"))
    with pytest.raises(IDXError, match="HTML page: a failed download"):
        read_idx(path)


def test_truncated_data_reports_expected_and_found_sizes(tmp_path):
    data = idx_bytes(np.zeros((10, 28, 28), dtype=np.uint8))
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(data[:-100])
    with pytest.raises(IDXError, match=r"t10k-images-idx3-ubyte: truncated.*\(10, 28, 28\) = 7,840 bytes.*holds 7,740"):
        read_idx(path)


def test_truncated_header_is_reported(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((10, 28, 28), dtype=np.uint8))[:9])
    with pytest.raises(IDXError, match="truncated inside the header"):
        read_idx(path)


def test_trailing_bytes_are_refused(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.zeros(5, dtype=np.uint8)) + b"extra")
    with pytest.raises(IDXError, match="longer than its header says"):
        read_idx(path)


def test_truncated_gzip_stream_is_reported(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(1000, dtype=np.uint8)))[:-20])
    with pytest.raises(IDXError, match="train-labels-idx1-ubyte.gz: the gzip stream is damaged or truncated"):
        read_idx(path)


def test_image_and_label_counts_must_agree(tmp_path):
    images = write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((5, 28, 28), np.uint8), gz=True)
    labels = write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4, np.uint8), gz=True)
    with pytest.raises(IDXError, match=r"holds 5 images but .*train-labels-idx1-ubyte.gz holds 4 labels"):
        read_images_and_labels(images, labels)


def test_swapped_images_and_labels_are_refused(tmp_path):
    images = write_idx(tmp_path / "a-idx3", np.zeros((5, 28, 28), np.uint8), gz=False)
    labels = write_idx(tmp_path / "b-idx1", np.zeros(5, np.uint8), gz=False)
    with pytest.raises(IDXError, match="is this a labels file"):
        read_images_and_labels(labels, images)


def test_find_idx_pair_prefers_the_first_folder_and_accepts_raw_or_gz(tmp_path):
    write_idx(tmp_path / "b" / "t10k-images-idx3-ubyte", np.zeros((1, 28, 28), np.uint8), gz=False)
    write_idx(tmp_path / "b" / "t10k-labels-idx1-ubyte", np.zeros(1, np.uint8), gz=True)
    assert find_idx_pair([tmp_path / "a", tmp_path / "b"], "t10k") == (
        tmp_path / "b" / "t10k-images-idx3-ubyte",
        tmp_path / "b" / "t10k-labels-idx1-ubyte.gz",
    )
    assert find_idx_pair([tmp_path / "a", tmp_path / "b"], "train") is None


def test_real_t10k_files_hold_the_published_mnist_test_set(mnist_t10k_dir):
    images, labels = read_images_and_labels(*find_idx_pair([mnist_t10k_dir], "t10k"))
    assert images.shape == (10_000, 28, 28) and images.dtype == torch.uint8
    # Class counts of the MNIST test set as published (LeCun et al.); a wrong reader cannot hit them.
    assert labels.bincount().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert labels[:8].tolist() == [7, 2, 1, 0, 4, 1, 4, 9]
