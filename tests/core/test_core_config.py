"""configure(): arguments > AITRACE_* environment > config file > defaults; bad values say what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

import aitrace_core
from aitrace_core import ConfigError, CoreSettings, load_settings


def test_defaults(tmp_path: Path) -> None:
    conf = load_settings(CoreSettings)
    assert conf.target is None
    assert conf.level == "info"
    assert conf.queue_size >= 10_000
    assert conf.exit_timeout <= 5


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AITRACE_SERVICE_NAME", "from-env")
    monkeypatch.setenv("AITRACE_TARGET", "-")
    monkeypatch.setenv("AITRACE_LEVEL", "WARNING")
    monkeypatch.setenv("AITRACE_BATCH_SIZE", "64")
    conf = load_settings(CoreSettings)
    assert (conf.service_name, conf.target, conf.level, conf.batch_size) == ("from-env", "-", "warning", 64)


@pytest.mark.parametrize("fmt", ["toml", "yaml"])
def test_layers_in_order(fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / f"config.{fmt}"
    if fmt == "toml":
        path.write_text('service_name = "from-file"\nlevel = "debug"\nbatch_size = 7\nexit_timeout = 2.5\n')
    else:
        path.write_text("service_name: from-file\nlevel: debug\nbatch_size: 7\nexit_timeout: 2.5\n")
    monkeypatch.setenv("AITRACE_CONFIG", str(path))
    monkeypatch.setenv("AITRACE_LEVEL", "error")  # env beats file
    monkeypatch.setenv("AITRACE_BATCH_SIZE", "9")

    conf = load_settings(CoreSettings, batch_size=11)  # argument beats env
    assert conf.service_name == "from-file"  # only in the file
    assert conf.level == "error"
    assert conf.batch_size == 11
    assert conf.exit_timeout == 2.5
    assert conf.flush_interval == 1.0  # nowhere: default


def test_default_config_file_location_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "xdg"
    (cfg / "aitrace").mkdir(parents=True)
    (cfg / "aitrace" / "config.toml").write_text('service_name = "xdg-app"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(cfg))
    assert load_settings(CoreSettings).service_name == "xdg-app"


def test_configure_uses_the_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AITRACE_TARGET", str(tmp_path / "env.jsonl"))
    monkeypatch.setenv("AITRACE_SERVICE_NAME", "env-service")
    conf = aitrace_core.configure(target=tmp_path / "arg.jsonl")
    assert conf.service_name == "env-service"
    aitrace_core.get_logger("x").info("hello")
    aitrace_core.flush()
    assert (tmp_path / "arg.jsonl").exists()
    assert not (tmp_path / "env.jsonl").exists()
    assert '"service":"env-service"' in (tmp_path / "arg.jsonl").read_text()


def _said(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("aitrace: ")]


def test_bad_value_from_environment_is_said_and_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AITRACE_LEVEL", "loud")
    conf = aitrace_core.configure(target=tmp_path / "x.jsonl")
    assert conf.level == "info"
    [line] = _said(capsys)
    assert "level='loud'" in line
    assert "environment variable AITRACE_LEVEL" in line
    assert "'debug'" in line
    assert "'critical'" in line
    assert "using 'info' (the default) instead" in line


def test_bad_value_from_argument_raises(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        aitrace_core.configure(target=tmp_path / "x.jsonl", batch_size=0)
    assert "batch_size=0" in str(info.value)
    assert "arguments of configure()" in str(info.value)
    assert "greater than or equal to 1" in str(info.value)


def test_bad_value_from_config_file_falls_back_to_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("queue_size: lots\nbatch_size: 64\n")
    monkeypatch.setenv("AITRACE_CONFIG", str(path))
    conf = load_settings(CoreSettings)
    assert (conf.queue_size, conf.batch_size) == (10_000, 64)  # the good key of the same file still counts
    [line] = _said(capsys)
    assert "queue_size='lots'" in line
    assert f"config file {path}" in line
    assert "a whole number, at least 100" in line
    assert "using 10000 (the default) instead" in line


def test_bad_environment_value_falls_back_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text("batch_size = 7\n")
    monkeypatch.setenv("AITRACE_CONFIG", str(path))
    monkeypatch.setenv("AITRACE_BATCH_SIZE", "abc")
    assert load_settings(CoreSettings).batch_size == 7
    [line] = _said(capsys)
    assert f"using 7 (from config file {path}) instead" in line


def test_missing_or_malformed_config_file_is_said_and_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AITRACE_CONFIG", str(tmp_path / "nope.toml"))
    monkeypatch.setenv("AITRACE_SERVICE_NAME", "still-read")
    assert load_settings(CoreSettings).service_name == "still-read"
    [line] = _said(capsys)
    assert "nope.toml" in line
    assert "does not exist" in line
    broken = tmp_path / "broken.toml"
    broken.write_text("service_name = = \n")
    monkeypatch.setenv("AITRACE_CONFIG", str(broken))
    assert load_settings(CoreSettings).service_name == "still-read"
    [line] = _said(capsys)
    assert "broken.toml" in line
    assert "ignored" in line


def test_bad_target_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="target"):
        aitrace_core.configure(target="http://")


def test_bad_environment_without_configure_never_breaks_the_app(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from aitrace_core._runtime import runtime

    monkeypatch.setattr(runtime, "configured", False)
    monkeypatch.setattr(runtime, "sink", None)
    monkeypatch.setenv("AITRACE_BATCH_SIZE", "many")

    @aitrace_core.auto_span
    def work() -> int:
        aitrace_core.get_logger("app").info("inside")
        return 5

    assert work() == 5
    assert work() == 5
    [line] = _said(capsys)  # said once, not per record
    assert "AITRACE_BATCH_SIZE" in line
    assert "using 512" in line
    shipper = aitrace_core.current_shipper()
    assert shipper is not None  # records are kept, with the default batch size
