"""``ptref serve``: a real server process on localhost, a real HTTP client, and the page in headless Chromium.

The models are a tiny softmax regression and a one-epoch captcha CNN (four heads) fitted here; what the server
answers is compared with what ``ptref predict`` prints for the same PNG files.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ptref.cli import main as ptref
from ptref.data.captcha import DIGITS, generate
from ptref.data.idx import read_images_and_labels
from helpers import REPO

MAX_BYTES = 200_000  # the test server's --max-bytes: an oversize body is cheap to send
MAX_PIXELS = 4_000_000  # its --max-pixels
# ptref predict prints probabilities to 4 decimals (±5e-5); the server's batches may differ from predict's in the
# last float32 bits of the matrix product (another batch size, another summation order).
PROBABILITY_TOLERANCE = dict(abs=5e-5 + 1e-6, rel=1e-5)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory, mnist_t10k_dir: Path) -> Path:
    """A softmax regression fitted for a few batches of real digits (enough to give distinct probabilities)."""
    root = tmp_path_factory.mktemp("serve_runs")
    status = ptref(["fit", "--config", str(REPO / "experiments" / "mnist_softmax_t10k.yaml"),
                    "--data.data_dir", str(mnist_t10k_dir), "--trainer.default_root_dir", str(root),
                    "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "10",
                    "--trainer.limit_val_batches", "1", "--trainer.enable_progress_bar", "false"])
    assert status is None
    return root / "version_0" / "checkpoints" / "last.ckpt"


@pytest.fixture(scope="module")
def pngs(tmp_path_factory: pytest.TempPathFactory, mnist_t10k_dir: Path) -> list[Path]:
    """Twelve t10k digits as a user would send them: dark ink on white, enlarged, grey or colour."""
    folder = tmp_path_factory.mktemp("serve_pngs")
    images, _ = read_images_and_labels(mnist_t10k_dir / "t10k-images-idx3-ubyte.gz",
                                       mnist_t10k_dir / "t10k-labels-idx1-ubyte.gz")
    files = []
    for index in range(12):
        picture = Image.fromarray(255 - images[index].numpy()).resize((112, 112))
        path = folder / f"digit_{index}.png"
        (picture.convert("RGB") if index % 2 else picture).save(path)
        files.append(path)
    return files


@pytest.fixture(scope="module")
def predicted(checkpoint: Path, pngs: list[Path]) -> dict[Path, tuple[str, float]]:
    """What ``ptref predict`` prints for each PNG: ``(label, probability)``."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = ptref(["predict", "--config", str(REPO / "experiments" / "mnist_softmax_t10k.yaml"),
                        "--ckpt_path", str(checkpoint), "--trainer.enable_progress_bar", "false",
                        "--data.predict_files", json.dumps([str(path) for path in pngs])])
    assert status is None
    lines = dict(re.findall(r"^(\S+\.png): (digit \d \(probability [\d.]+\))$", printed.getvalue(), re.MULTILINE))
    assert len(lines) == len(pngs), printed.getvalue()
    answers = {}
    for path in pngs:
        label, probability = re.fullmatch(r"digit (\d) \(probability ([\d.]+)\)", lines[str(path)]).groups()
        answers[path] = label, float(probability)
    return answers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(checkpoint: Path, log: Path) -> Iterator[str]:
    """``ptref serve`` in its own process group on a free port; its URL once ``/health`` answers."""
    port = free_port()
    environment = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "ptref", "serve", "--ckpt_path", str(checkpoint), "--port", str(port),
             "--max-bytes", str(MAX_BYTES), "--max-pixels", str(MAX_PIXELS)],
            stdout=output, stderr=subprocess.STDOUT, env=environment, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"ptref serve exited with {process.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"ptref serve not ready after 90 s:\n{log.read_text()}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            time.sleep(0.3)
        yield url
    finally:
        # the whole group: the server and the worker processes LitServe started
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def server(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(checkpoint, tmp_path_factory.mktemp("serve_log") / "server.log") as url:
        yield url


def post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:
    """``(status, JSON answer)`` of ``POST url/predict``, 4xx included."""
    request = urllib.request.Request(f"{url}/predict", data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def picture_body(data: bytes) -> bytes:
    return json.dumps({"image": base64.b64encode(data).decode()}).encode()


def assert_matches_predict(answer: dict, expected: tuple[str, float]) -> None:
    label, probability = expected
    assert answer["label"] == label
    assert answer["probability"] == pytest.approx(probability, **PROBABILITY_TOLERANCE)
    assert answer["probabilities"][answer["index"]] == answer["probability"]
    assert sum(answer["probabilities"]) == pytest.approx(1, abs=1e-5, rel=0)  # float32 softmax of 10 classes


def test_server_answers_as_ptref_predict(server: str, pngs: list[Path], predicted: dict) -> None:
    labels = set()
    for path in pngs:
        status, answer = post(server, picture_body(path.read_bytes()))
        assert status == 200, answer
        assert_matches_predict(answer, predicted[path])
        assert answer["classes"] == [str(digit) for digit in range(10)]
        labels.add(answer["label"])
    assert len(labels) > 1  # a model answering one class everywhere would make the comparison weak


def test_a_data_url_is_read_like_base64(server: str, pngs: list[Path], predicted: dict) -> None:
    body = json.dumps({"image": "data:image/png;base64," + base64.b64encode(pngs[0].read_bytes()).decode()})
    status, answer = post(server, body.encode())
    assert status == 200, answer
    assert_matches_predict(answer, predicted[pngs[0]])


def encoded(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


BAD_REQUESTS = {
    "not an image": (picture_body(b"just some text, no picture"), "application/json", 415, "not a picture"),
    "not JSON": (b"\x89PNG\r\n", "application/json", 400, "not JSON"),
    "not JSON content type": (b"image=abc", "application/x-www-form-urlencoded", 400, "Content-Type"),
    "empty body": (b"", "application/json", 400, "Field required"),
    "empty image": (picture_body(b""), "application/json", 400, "empty"),
    "no base64": (b'{"image": "@@@"}', "application/json", 400, "not base64"),
    "body too large": (picture_body(bytes(MAX_BYTES)), "application/json", 413, "--max-bytes"),
    "too many pixels": (picture_body(encoded(Image.new("1", (2100, 2100), 1))), "application/json", 413,
                        "--max-pixels"),
    "16-bit mode": (picture_body(encoded(Image.fromarray(np.full((40, 40), 40000, np.uint16)))),
                    "application/json", 415, "mode I;16"),
    "blank page": (picture_body(encoded(Image.new("L", (50, 50), 255))), "application/json", 422, "no ink"),
}


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_a_bad_request_gets_a_4xx_line_and_the_server_keeps_serving(
    server: str, pngs: list[Path], predicted: dict, case: str
) -> None:
    body, content_type, expected_status, words = BAD_REQUESTS[case]
    status, answer = post(server, body, content_type)
    assert status == expected_status, answer
    assert words in answer["detail"] and "\n" not in answer["detail"]
    status, answer = post(server, picture_body(pngs[1].read_bytes()))
    assert status == 200, answer
    assert_matches_predict(answer, predicted[pngs[1]])


def test_a_burst_of_concurrent_requests_all_succeed_with_predicts_answers(
    server: str, pngs: list[Path], predicted: dict
) -> None:
    bodies = {path: picture_body(path.read_bytes()) for path in pngs}
    order = [pngs[index % len(pngs)] for index in range(200)]
    with ThreadPoolExecutor(max_workers=8) as clients:
        results = list(clients.map(lambda path: post(server, bodies[path]), order))
    assert [status for status, _ in results] == [200] * 200
    for path, (_, answer) in zip(order, results):
        assert_matches_predict(answer, predicted[path])


def test_a_bad_request_in_a_burst_leaves_the_others_of_its_batch_unharmed(
    server: str, pngs: list[Path], predicted: dict
) -> None:
    blank = picture_body(encoded(Image.new("L", (50, 50), 255)))
    bodies = [blank if index % 4 == 0 else picture_body(pngs[index % len(pngs)].read_bytes()) for index in range(64)]
    with ThreadPoolExecutor(max_workers=8) as clients:
        results = list(clients.map(lambda body: post(server, body), bodies))
    for index, (status, answer) in enumerate(results):
        if index % 4 == 0:
            assert status == 422, answer
        else:
            assert status == 200, answer
            assert_matches_predict(answer, predicted[pngs[index % len(pngs)]])


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's ``chromium`` and ``chromium-driver``) driven by Selenium."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.fail("chromium and chromedriver are needed: apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    session = webdriver.Chrome(service=Service(driver), options=options)
    yield session
    session.quit()


def shown_answer(browser, timeout: float = 20) -> tuple[str, str, int]:
    """``(label, error, number of bars)`` once the page has shown an answer or an error."""
    from selenium.webdriver.support.ui import WebDriverWait

    # read in one script: the page may change between two separate reads
    script = """const text = (id) => document.getElementById(id).textContent;
                return [text("label"), text("error"), document.querySelectorAll("#bars .bar").length];"""

    def settled(driver):
        label, error, bars = driver.execute_script(script)
        return (label, error, bars) if (label and label != "\u2026") or error else False

    return tuple(WebDriverWait(browser, timeout).until(settled))


def test_the_page_shows_the_prediction_of_an_uploaded_picture(
    server: str, browser, pngs: list[Path], predicted: dict
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{server}/")
    browser.find_element(By.ID, "file").send_keys(str(pngs[2]))
    label, error, bars = shown_answer(browser)
    assert (label, error, bars) == (predicted[pngs[2]][0], "", 10)
    probability = browser.find_element(By.ID, "probability").text
    assert probability == f"probability {predicted[pngs[2]][1]:.4f}"


def test_the_page_shows_the_error_of_a_file_that_is_no_picture(server: str, browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    browser.get(f"{server}/")
    browser.find_element(By.ID, "file").send_keys(str(text))
    label, error, bars = shown_answer(browser)
    assert (label, bars) == ("", 0)
    assert error.startswith("415: not a picture")


def test_the_page_predicts_a_drawing(server: str, browser) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    browser.get(f"{server}/")
    canvas = browser.find_element(By.ID, "canvas")
    # a vertical stroke, a "1", from (140, 40) to (140, 240) on the 280 px canvas
    ActionChains(browser).move_to_element_with_offset(canvas, 0, -100).click_and_hold() \
        .move_by_offset(0, 100).move_by_offset(0, 100).release().perform()
    browser.find_element(By.ID, "predict-drawing").click()
    label, error, bars = shown_answer(browser)
    assert error == "" and label in [str(digit) for digit in range(10)] and bars == 10


def test_a_file_that_is_no_checkpoint_stops_serve_with_one_line(tmp_path: Path, capsys) -> None:
    bogus = tmp_path / "model.ckpt"
    bogus.write_text("not a checkpoint")
    assert ptref(["serve", "--ckpt_path", str(bogus)]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"ptref: {bogus}: not a checkpoint") and error.count("\n") == 1


def test_last_without_a_run_stops_serve_with_one_line(tmp_path: Path, capsys) -> None:
    config = tmp_path / "experiment.yaml"
    config.write_text(f"trainer:\n  default_root_dir: {tmp_path / 'runs'}\n")
    assert ptref(["serve", "--config", str(config), "--ckpt_path", "last"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("ptref: --ckpt_path last: no run under") and error.count("\n") == 1


def test_a_model_that_is_no_image_model_stops_serve_with_one_line(
    tmp_path: Path, house_price_csv: Path, capsys
) -> None:
    status = ptref(["fit", "--config", str(REPO / "experiments" / "house_price.yaml"), "--data.csv_path",
                    str(house_price_csv), "--trainer.max_epochs", "2", "--trainer.default_root_dir", str(tmp_path),
                    "--trainer.enable_progress_bar", "false"])
    assert status is None
    checkpoint = next(tmp_path.glob("version_0/checkpoints/*.ckpt"))
    capsys.readouterr()
    assert ptref(["serve", "--ckpt_path", str(checkpoint)]) == 1
    error = capsys.readouterr().err
    assert "cannot be served" in error and "load_image" in error and error.count("\n") == 1


# The captcha model: K = 4 heads, one per character. ptref predict prints each character's probability to 3
# decimals (±5e-4); the server's batches may differ in the last float32 bits, as above.
CHARACTER_TOLERANCE = dict(abs=5e-4 + 1e-6, rel=1e-5)


@pytest.fixture(scope="module")
def captcha_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The course's captcha CNN fitted for one epoch on 64 generated captchas (the served contract, not skill)."""
    root = tmp_path_factory.mktemp("captcha_runs")
    status = ptref(["fit", "--config", str(REPO / "experiments" / "captcha.yaml"),
                    "--data.n_train", "64", "--data.n_test", "16", "--data.batch_size", "32",
                    "--data.cache_dir", str(root / "cache"), "--trainer.default_root_dir", str(root),
                    "--trainer.max_epochs", "1", "--trainer.enable_progress_bar", "false"])
    assert status is None
    return root / "version_0" / "checkpoints" / "last.ckpt"


@pytest.fixture(scope="module")
def captcha_pngs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three captchas from another seed than the training set's; the last one enlarged (read resized)."""
    folder = tmp_path_factory.mktemp("captcha_pngs")
    images, texts = generate(3, random.Random(2024), DIGITS, 4, 160, 60)
    files = []
    for index, (image, text) in enumerate(zip(images, texts)):
        picture = Image.fromarray(image)
        path = folder / f"{text}_{index}.png"
        (picture.resize((320, 120)) if index == 2 else picture).save(path)
        files.append(path)
    return files


@pytest.fixture(scope="module")
def captcha_predicted(captcha_checkpoint: Path, captcha_pngs: list[Path]) -> dict[Path, tuple[str, list[float]]]:
    """What ``ptref predict`` prints for each captcha: ``(text, each character's probability)``."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = ptref(["predict", "--config", str(REPO / "experiments" / "captcha.yaml"),
                        "--ckpt_path", str(captcha_checkpoint), "--trainer.enable_progress_bar", "false",
                        "--data.predict_files", json.dumps([str(path) for path in captcha_pngs])])
    assert status is None
    lines = {path: (text, [float(p) for p in probabilities.split()]) for path, text, probabilities
             in re.findall(r"^(\S+\.png): (\d{4}) \(([\d. ]+)\)$", printed.getvalue(), re.MULTILINE)}
    assert len(lines) == len(captcha_pngs), printed.getvalue()
    return {path: lines[str(path)] for path in captcha_pngs}


@pytest.fixture(scope="module")
def captcha_server(captcha_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(captcha_checkpoint, tmp_path_factory.mktemp("captcha_log") / "server.log") as url:
        yield url


def test_a_captcha_model_is_served_with_predicts_text_and_one_answer_per_character(
    captcha_server: str, captcha_pngs: list[Path], captcha_predicted: dict
) -> None:
    for path in captcha_pngs:
        status, answer = post(captcha_server, picture_body(path.read_bytes()))
        assert status == 200, answer
        text, probabilities = captcha_predicted[path]
        assert answer["label"] == text
        assert answer["classes"] == list(DIGITS) and len(answer["index"]) == 4
        assert answer["probability"] == pytest.approx(probabilities, **CHARACTER_TOLERANCE)
        for index, probability, row in zip(answer["index"], answer["probability"], answer["probabilities"]):
            assert row[index] == probability and len(row) == len(DIGITS)
            assert sum(row) == pytest.approx(1, abs=1e-5, rel=0)  # float32 softmax of 10 characters


def test_the_page_shows_a_captcha_with_one_chart_per_character(
    captcha_server: str, browser, captcha_pngs: list[Path], captcha_predicted: dict
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{captcha_server}/")
    browser.find_element(By.ID, "file").send_keys(str(captcha_pngs[0]))
    label, error, bars = shown_answer(browser)
    assert (label, error, bars) == (captcha_predicted[captcha_pngs[0]][0], "", 4 * len(DIGITS))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#bars > div")) == 4
