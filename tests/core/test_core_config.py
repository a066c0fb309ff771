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


def test_bad_value_from_environment_names_key_source_and_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AITRACE_LEVEL", "loud")
    with pytest.raises(ConfigError) as info:
        aitrace_core.configure()
    message = str(info.value)
    assert "level" in message
    assert "AITRACE_LEVEL" in message
    assert "'debug'" in message
    assert "'critical'" in message
    assert "loud" in message


def test_bad_value_from_argument(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        aitrace_core.configure(target=tmp_path / "x.jsonl", batch_size=0)
    assert "batch_size" in str(info.value)
    assert "command line / code" in str(info.value)
    assert "greater than or equal to 1" in str(info.value)


def test_bad_value_from_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("queue_size: lots\n")
    monkeypatch.setenv("AITRACE_CONFIG", str(path))
    with pytest.raises(ConfigError) as info:
        load_settings(CoreSettings)
    assert "queue_size" in str(info.value)
    assert str(path) in str(info.value)
    assert "integer" in str(info.value)


def test_missing_or_malformed_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AITRACE_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(CoreSettings)
    broken = tmp_path / "broken.toml"
    broken.write_text("service_name = = \n")
    monkeypatch.setenv("AITRACE_CONFIG", str(broken))
    with pytest.raises(ConfigError, match=r"broken\.toml"):
        load_settings(CoreSettings)


def test_bad_target_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="target"):
        aitrace_core.configure(target="http://")


def test_bad_environment_without_configure_never_breaks_the_app(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from aitrace_core._runtime import runtime

    monkeypatch.setattr(runtime, "configured", False)
    monkeypatch.setattr(runtime, "sink", None)
    monkeypatch.setenv("AITRACE_BATCH_SIZE", "many")

    @aitrace_core.auto_span
    def work() -> int:
        aitrace_core.get_logger("app").info("inside")
        return 5

    with caplog.at_level("WARNING", logger="aitrace"):
        assert work() == 5
        assert work() == 5
    warnings = [r.getMessage() for r in caplog.records if r.name == "aitrace"]
    assert len(warnings) == 1  # said once, not per record
    assert "batch_size" in warnings[0]
    assert aitrace_core.current_shipper() is None
