"""Power backends without hardware: fake sysfs trees, injected NVML and jtop, and
the real failure paths of this machine (libraries absent, not a Jetson)."""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from helpers.measure.power import (
    Ina3221Probe,
    JtopProbe,
    NvmlProbe,
    ProbeFactory,
    ProbeUnavailable,
    RaplProbe,
    open_probe,
    parse_device,
    probe_statuses,
)
from helpers.measure.power import ina3221 as ina3221_module
from helpers.measure.power import rapl as rapl_module

# --------------------------------------------------------------------------- RAPL


def make_zone(root: Path, dirname: str, name: str, energy_uj: int, max_uj: int = 262143328850) -> Path:
    zone = root / dirname
    zone.mkdir(parents=True)
    (zone / "name").write_text(name + "\n")
    (zone / "energy_uj").write_text(f"{energy_uj}\n")
    (zone / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return zone


def set_energy(zone: Path, energy_uj: int) -> None:
    (zone / "energy_uj").write_text(f"{energy_uj}\n")


@pytest.fixture
def powercap(tmp_path: Path) -> Path:
    root = tmp_path / "powercap"
    (root / "intel-rapl").mkdir(parents=True)  # the control-type folder, not a zone
    return root


def test_rapl_single_package_energy_difference(powercap):
    pkg = make_zone(powercap, "intel-rapl:0", "package-0", 5_000_000)
    make_zone(powercap, "intel-rapl:0:0", "core", 1_000_000)
    make_zone(powercap, "intel-rapl:0:1", "dram", 2_000_000)
    probe = RaplProbe(root=powercap)
    assert probe.domain == "rapl:package-0"
    assert probe.method == "counter"
    assert probe.name == "rapl"
    e0 = probe.read_energy_j()
    set_energy(pkg, 5_000_000 + 12_345_678)  # 12.345678 J later
    e1 = probe.read_energy_j()
    assert e1 - e0 == pytest.approx(12.345678, abs=1e-9)
    probe.close()


def test_rapl_sums_packages_and_skips_psys_and_mmio(powercap):
    p0 = make_zone(powercap, "intel-rapl:0", "package-0", 100)
    p1 = make_zone(powercap, "intel-rapl:1", "package-1", 200)
    psys = make_zone(powercap, "intel-rapl:2", "psys", 300)
    mmio = make_zone(powercap, "intel-rapl-mmio:0", "package-0", 400)
    probe = RaplProbe(root=powercap)
    assert probe.domain == "rapl:package-0+package-1"
    e0 = probe.read_energy_j()
    set_energy(p0, 100 + 3_000_000)
    set_energy(p1, 200 + 1_000_000)
    set_energy(psys, 300 + 50_000_000)  # must not count
    set_energy(mmio, 400 + 3_000_000)  # duplicate of package-0: must not count
    assert probe.read_energy_j() - e0 == pytest.approx(4.0, abs=1e-12)


def test_rapl_wrap_around_uses_max_energy_range(powercap):
    pkg = make_zone(powercap, "intel-rapl:0", "package-0", 900, max_uj=1000)
    probe = RaplProbe(root=powercap)
    e0 = probe.read_energy_j()
    set_energy(pkg, 100)  # wrapped: 900 -> 1000 -> 0 -> 100 is 100 + 1001 - 900 = 201 uJ
    e1 = probe.read_energy_j()
    assert (e1 - e0) * 1e6 == pytest.approx(201, abs=1e-6)
    set_energy(pkg, 400)  # no wrap: +300 uJ
    assert (probe.read_energy_j() - e1) * 1e6 == pytest.approx(300, abs=1e-6)


def test_rapl_missing_root(tmp_path):
    with pytest.raises(ProbeUnavailable) as err:
        RaplProbe(root=tmp_path / "nowhere")
    assert "does not exist" in err.value.reason
    assert str(tmp_path / "nowhere") in err.value.reason


def test_rapl_no_package_zone(powercap):
    make_zone(powercap, "intel-rapl:0:0", "core", 1)
    make_zone(powercap, "intel-rapl:0:1", "dram", 1)
    with pytest.raises(ProbeUnavailable) as err:
        RaplProbe(root=powercap)
    assert err.value.reason == f"no RAPL package zone under {powercap}"


def test_rapl_permission_denied_reason(powercap, monkeypatch):
    pkg = make_zone(powercap, "intel-rapl:0", "package-0", 1)
    real_read = rapl_module._read_sysfs

    def root_only(path: Path) -> str:
        if path.name == "energy_uj":
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(path)

    monkeypatch.setattr(rapl_module, "_read_sysfs", root_only)
    with pytest.raises(ProbeUnavailable) as err:
        RaplProbe(root=powercap)
    assert err.value.reason == (
        f"permission denied reading {pkg / 'energy_uj'} (root only on this kernel)"
    )


def test_rapl_chmod_000_energy_file(powercap):
    pkg = make_zone(powercap, "intel-rapl:0", "package-0", 1)
    energy = pkg / "energy_uj"
    energy.chmod(0)
    try:
        if os.access(energy, os.R_OK):
            pytest.skip("running with privileges that read mode-000 files (root); "
                        "the permission path is covered by test_rapl_permission_denied_reason")
        with pytest.raises(ProbeUnavailable) as err:
            RaplProbe(root=powercap)
        assert "permission denied" in err.value.reason
    finally:
        energy.chmod(0o644)


# --------------------------------------------------------------------------- NVML


class FakeNvmlError(Exception):
    def __init__(self, value: int, text: str):
        super().__init__(text)
        self.value = value


class FakeNotSupported(FakeNvmlError):
    def __init__(self):
        super().__init__(3, "Not Supported")


class FakeNvml:
    """The slice of pynvml's API the probe uses, with scripted readings."""

    NVMLError = FakeNvmlError
    NVMLError_NotSupported = FakeNotSupported
    NVML_ERROR_NOT_SUPPORTED = 3

    def __init__(self, energy_mj=None, power_mw=None, count=1, init_error=None, uuids=None):
        self.energy_mj = list(energy_mj) if energy_mj is not None else None
        self.power_mw = list(power_mw) if power_mw is not None else None
        self.count = count
        self.init_error = init_error
        self.uuids = uuids or [f"GPU-0000000{i}-aaaa-bbbb-cccc-dddddddddddd" for i in range(count)]
        self.init_calls = 0
        self.shutdown_calls = 0

    def nvmlInit(self):
        self.init_calls += 1
        if self.init_error:
            raise FakeNvmlError(9, self.init_error)

    def nvmlShutdown(self):
        self.shutdown_calls += 1

    def nvmlDeviceGetCount(self):
        return self.count

    def nvmlDeviceGetHandleByIndex(self, i):
        return ("handle", i)

    def nvmlDeviceGetUUID(self, handle):
        return self.uuids[handle[1]]

    def nvmlDeviceGetName(self, handle):
        return b"Fake GPU"

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        if self.energy_mj is None:
            raise FakeNotSupported()
        return self.energy_mj.pop(0) if len(self.energy_mj) > 1 else self.energy_mj[0]

    def nvmlDeviceGetPowerUsage(self, handle):
        if self.power_mw is None:
            raise FakeNotSupported()
        return self.power_mw.pop(0) if len(self.power_mw) > 1 else self.power_mw[0]


def test_nvml_counter_converts_mj_to_j():
    # first value is consumed by the capability check at open
    fake = FakeNvml(energy_mj=[0, 1_000_000, 1_012_500])
    probe = NvmlProbe(index=0, nvml=fake)
    assert (probe.method, probe.domain, probe.device_name) == ("counter", "nvml:gpu0", "Fake GPU")
    e0 = probe.read_energy_j()
    e1 = probe.read_energy_j()
    assert e0 == pytest.approx(1000.0)
    assert e1 - e0 == pytest.approx(12.5)
    with pytest.raises(NotImplementedError):
        probe.read_power_w()
    probe.close()
    probe.close()
    assert fake.shutdown_calls == 1


def test_nvml_not_supported_falls_back_to_sampled_power():
    fake = FakeNvml(energy_mj=None, power_mw=[70_000, 251_250])
    probe = NvmlProbe(index=0, nvml=fake)
    assert probe.method == "sampled"
    assert probe.read_power_w() == pytest.approx(251.25)
    with pytest.raises(NotImplementedError):
        probe.read_energy_j()


def test_nvml_neither_source_supported():
    fake = FakeNvml(energy_mj=None, power_mw=None)
    with pytest.raises(ProbeUnavailable) as err:
        NvmlProbe(nvml=fake)
    assert "neither an energy counter nor power usage" in err.value.reason
    assert fake.shutdown_calls == 1


def test_nvml_init_failure_gives_nvml_message():
    fake = FakeNvml(energy_mj=[0], init_error="Driver Not Loaded")
    with pytest.raises(ProbeUnavailable) as err:
        NvmlProbe(nvml=fake)
    assert err.value.reason == (
        "NVML could not start: Driver Not Loaded (no NVIDIA driver loaded or no NVIDIA GPU)"
    )


def test_nvml_index_out_of_range():
    fake = FakeNvml(energy_mj=[0], count=2)
    with pytest.raises(ProbeUnavailable) as err:
        NvmlProbe(index=2, nvml=fake)
    assert err.value.reason == "NVML GPU index 2 is out of range: NVML sees 2 GPU(s)"
    assert fake.shutdown_calls == 1


def test_nvml_uuid_selects_the_cuda_gpu():
    fake = FakeNvml(energy_mj=[0], count=3)
    bare = fake.uuids[2].removeprefix("GPU-")  # torch prints the UUID without the prefix
    probe = NvmlProbe(index=0, nvml=fake, uuid=bare)
    assert probe.domain == "nvml:gpu2"


def test_nvml_real_import_failure_on_this_machine():
    if importlib.util.find_spec("pynvml") is not None:
        pytest.skip("nvidia-ml-py is installed here; the simulated import failure covers the path")
    with pytest.raises(ProbeUnavailable) as err:
        NvmlProbe()
    assert err.value.reason == "nvidia-ml-py is not installed (pip install '.[nvidia]')"


def test_nvml_import_failure_simulated(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes `import pynvml` raise ImportError
    with pytest.raises(ProbeUnavailable) as err:
        NvmlProbe()
    assert "pip install '.[nvidia]'" in err.value.reason


# --------------------------------------------------------------------------- jtop


class JtopException(Exception):
    """Same name as jetson-stats' exception, which is what the probe recognises."""


class FakeJtop:
    def __init__(self, power=None, start_error=None, **kwargs):
        self.kwargs = kwargs
        self._power = power
        self.start_error = start_error
        self.closed = 0

    def start(self):
        if self.start_error:
            raise self.start_error

    def close(self):
        self.closed += 1

    @property
    def power(self):
        return self._power


def jtop_power(vdd_in_mw=5000, gpu_mw=1200):
    # jtop moves the board input rail out of "rail" into "tot"
    return {
        "rail": {
            "VDD_GPU": {"volt": 5000, "curr": 240, "power": gpu_mw, "avg": 999, "online": True},
            "VDD_CPU": {"volt": 5000, "curr": 100, "power": 500, "avg": 999, "online": True},
        },
        "tot": {"volt": 5000, "curr": 1000, "power": vdd_in_mw, "avg": 999, "name": "VDD_IN"},
    }


@pytest.fixture
def tegra(tmp_path: Path) -> Path:
    path = tmp_path / "nv_tegra_release"
    path.write_text("# R32 (release), REVISION: 7.1\n")
    return path


def test_jtop_not_a_jetson(tmp_path):
    missing = tmp_path / "nv_tegra_release"
    with pytest.raises(ProbeUnavailable) as err:
        JtopProbe(tegra_release=missing)
    assert err.value.reason == f"not a Jetson board ({missing} missing)"


def test_jtop_real_defaults_on_this_machine():
    """The real path: no /etc/nv_tegra_release here, or jetson-stats absent, or no service."""
    if Path("/etc/nv_tegra_release").exists() and importlib.util.find_spec("jtop") is not None:
        pytest.skip("a Jetson with jetson-stats: the real probe may well open here")
    with pytest.raises(ProbeUnavailable) as err:
        JtopProbe()
    assert err.value.reason


def test_jtop_library_missing_on_a_jetson(tegra, monkeypatch):
    monkeypatch.setitem(sys.modules, "jtop", None)
    with pytest.raises(ProbeUnavailable) as err:
        JtopProbe(tegra_release=tegra)
    assert err.value.reason == "jetson-stats is not installed (pip install '.[jetson]')"


def test_jtop_service_not_running(tegra):
    def factory(**kwargs):
        return FakeJtop(start_error=JtopException(
            "The jtop.service is not active. Please run:\nsudo systemctl restart jtop.service"))

    with pytest.raises(ProbeUnavailable) as err:
        JtopProbe(jtop_factory=factory, tegra_release=tegra)
    assert err.value.reason.startswith("jtop service is not running (sudo systemctl start jtop.service)")
    assert "not active" in err.value.reason


def test_jtop_reads_instantaneous_power_not_avg(tegra):
    made = []

    def factory(**kwargs):
        made.append(FakeJtop(power=jtop_power(vdd_in_mw=7345), **kwargs))
        return made[-1]

    probe = JtopProbe(jtop_factory=factory, tegra_release=tegra)
    assert made[0].kwargs == {"interval": 0.5}
    assert (probe.domain, probe.method, probe.sensor_period_s) == ("jetson:VDD_IN", "sampled", 0.5)
    assert probe.read_power_w() == pytest.approx(7.345)  # not avg (999 mW)
    gpu = JtopProbe(rail="VDD_GPU", jtop_factory=factory, tegra_release=tegra)
    assert gpu.domain == "jetson:VDD_GPU"
    assert gpu.read_power_w() == pytest.approx(1.2)
    probe.close()
    probe.close()
    assert made[0].closed == 1


def test_jtop_unknown_rail_lists_rails(tegra):
    fake = FakeJtop(power=jtop_power())
    with pytest.raises(ProbeUnavailable) as err:
        JtopProbe(rail="POM_5V_IN", jtop_factory=lambda **kw: fake, tegra_release=tegra)
    assert "no rail 'POM_5V_IN'" in err.value.reason
    assert "VDD_CPU, VDD_GPU, tot (VDD_IN)" in err.value.reason
    assert fake.closed == 1


def test_jtop_interval_below_minimum_is_refused(tegra):
    with pytest.raises(ValueError):
        JtopProbe(interval_s=0.1, jtop_factory=lambda **kw: FakeJtop(power=jtop_power()), tegra_release=tegra)


# --------------------------------------------------------------------------- INA3221 (sysfs)


def make_iio(root: Path, rails: dict[str, int], device: str = "1-0040") -> Path:
    """The L4T R32 ``ina3221x`` IIO layout: rail_name_N and in_power N_input in mW."""
    folder = root / device / "iio:device0"
    folder.mkdir(parents=True)
    for channel, (name, power_mw) in enumerate(rails.items()):
        (folder / f"rail_name_{channel}").write_text(name + "\n")
        (folder / f"in_power{channel}_input").write_text(f"{power_mw}\n")
        (folder / f"in_current{channel}_input").write_text("999\n")  # not read
        (folder / f"in_voltage{channel}_input").write_text("5000\n")
    return folder


def make_hwmon(root: Path, rails: dict[str, tuple[int, int]], hwmon: str = "hwmon3", name: str = "ina3221",
               interval_ms: int | None = None) -> Path:
    """The mainline hwmon layout: inN_label, inN_input (mV), currN_input (mA)."""
    folder = root / hwmon
    folder.mkdir(parents=True)
    (folder / "name").write_text(name + "\n")
    for channel, (label, (millivolt, milliamp)) in enumerate(rails.items(), start=1):
        (folder / f"in{channel}_label").write_text(label + "\n")
        (folder / f"in{channel}_input").write_text(f"{millivolt}\n")
        (folder / f"curr{channel}_input").write_text(f"{milliamp}\n")
    if interval_ms is not None:
        (folder / "update_interval").write_text(f"{interval_ms}\n")
    return folder


@pytest.fixture
def ina_roots(tmp_path: Path) -> tuple[Path, Path]:
    iio, hwmon = tmp_path / "ina3221x", tmp_path / "hwmon"
    iio.mkdir()
    hwmon.mkdir()
    return iio, hwmon


def test_ina3221_iio_layout_reads_mw_as_w(ina_roots):
    iio, hwmon = ina_roots
    folder = make_iio(iio, {"POM_5V_IN": 4512, "POM_5V_GPU": 1200, "POM_5V_CPU": 800})  # a Jetson Nano
    probe = Ina3221Probe(iio_root=iio, hwmon_root=hwmon)
    assert (probe.name, probe.domain, probe.method) == ("ina3221", "ina3221:POM_5V_IN", "sampled")
    assert probe.sensor_period_s is None
    assert probe.read_power_w() == pytest.approx(4.512)
    (folder / "in_power0_input").write_text("6001\n")  # a later sample
    assert probe.read_power_w() == pytest.approx(6.001)
    gpu = Ina3221Probe(rail="POM_5V_GPU", iio_root=iio, hwmon_root=hwmon)
    assert (gpu.domain, gpu.read_power_w()) == ("ina3221:POM_5V_GPU", pytest.approx(1.2))
    probe.close()
    probe.close()


def test_ina3221_hwmon_layout_multiplies_volts_by_amps(ina_roots):
    iio, hwmon = ina_roots
    make_hwmon(hwmon, {"CPU": (5000, 100)}, hwmon="hwmon0", name="coretemp")  # another driver: skipped
    folder = make_hwmon(hwmon, {"VDD_IN": (5080, 1000), "VDD_CPU_GPU_CV": (5072, 312), "VDD_SOC": (5064, 400)},
                        interval_ms=140)
    (folder / "in4_label").write_text("sum of shunt voltages\n")  # not a rail: channels 1-3 only
    (folder / "in4_input").write_text("12\n")
    (folder / "curr4_input").write_text("1712\n")
    probe = Ina3221Probe(iio_root=iio, hwmon_root=hwmon)
    assert probe.domain == "ina3221:VDD_IN"
    assert probe.read_power_w() == pytest.approx(5.080)  # 5080 mV x 1000 mA
    assert probe.sensor_period_s == pytest.approx(0.14)
    assert set(ina3221_module.find_rails(iio, hwmon)) == {"VDD_IN", "VDD_CPU_GPU_CV", "VDD_SOC"}
    (folder / "curr1_input").write_text("2000\n")
    assert probe.read_power_w() == pytest.approx(10.16)
    cv = Ina3221Probe(rail="VDD_CPU_GPU_CV", iio_root=iio, hwmon_root=hwmon)
    assert cv.read_power_w() == pytest.approx(5.072 * 0.312)


def test_ina3221_hwmon_power_file_and_disabled_channel(ina_roots):
    iio, hwmon = ina_roots
    folder = make_hwmon(hwmon, {"VDD_IN": (5000, 1000), "VDD_GPU": (5000, 500)})
    (folder / "power1_input").write_text("7250000\n")  # uW, preferred over in x curr
    (folder / "in2_enable").write_text("0\n")
    probe = Ina3221Probe(iio_root=iio, hwmon_root=hwmon)
    assert probe.read_power_w() == pytest.approx(7.25)
    with pytest.raises(ProbeUnavailable) as err:
        Ina3221Probe(rail="VDD_GPU", iio_root=iio, hwmon_root=hwmon)
    assert err.value.reason == "INA3221 has no rail 'VDD_GPU' (rails: VDD_IN)"


def test_ina3221_no_monitor(ina_roots, tmp_path):
    iio, hwmon = ina_roots
    make_hwmon(hwmon, {"Tctl": (1, 1)}, name="k10temp")
    with pytest.raises(ProbeUnavailable) as err:
        Ina3221Probe(iio_root=tmp_path / "absent", hwmon_root=hwmon)
    assert err.value.reason.startswith("no INA3221 power monitor: ")
    assert str(tmp_path / "absent") in err.value.reason and str(hwmon) in err.value.reason


def test_ina3221_no_board_input_rail_lists_rails(ina_roots):
    iio, hwmon = ina_roots
    make_iio(iio, {"GPU": 1000, "CPU": 500, "SOC": 700})  # Xavier AGX names its rails without VDD_IN
    with pytest.raises(ProbeUnavailable) as err:
        Ina3221Probe(iio_root=iio, hwmon_root=hwmon)
    assert err.value.reason == "INA3221 has no board input rail (VDD_IN or POM_5V_IN) (rails: CPU, GPU, SOC)"


def test_ina3221_permission_denied_and_garbage(ina_roots, monkeypatch):
    iio, hwmon = ina_roots
    folder = make_iio(iio, {"VDD_IN": 5000})
    real_read = ina3221_module._read_text

    def root_only(path: Path) -> str:
        if path.name.startswith("in_power"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(path)

    monkeypatch.setattr(ina3221_module, "_read_text", root_only)
    with pytest.raises(ProbeUnavailable) as err:
        Ina3221Probe(iio_root=iio, hwmon_root=hwmon)
    assert err.value.reason == f"permission denied reading {folder / 'in_power0_input'} (root only on this kernel)"
    monkeypatch.setattr(ina3221_module, "_read_text", real_read)
    (folder / "in_power0_input").write_text("n/a\n")
    with pytest.raises(ProbeUnavailable) as err:
        Ina3221Probe(iio_root=iio, hwmon_root=hwmon)
    assert "holds 'n/a', not a number" in err.value.reason


def test_ina3221_sampled_window_integrates_its_power(ina_roots):
    """Through the window machinery: sampled power, its method and domain, never 0 W for no sensor."""
    from helpers.measure.power import PowerWindow

    iio, hwmon = ina_roots
    make_hwmon(hwmon, {"VDD_IN": (5000, 1000)})  # 5 W, constant
    clock = {"t": 0.0}

    def sleep(dt):
        clock["t"] += dt

    probe = Ina3221Probe(iio_root=iio, hwmon_root=hwmon)
    window = PowerWindow(probe, duration_s=2.0, sample_period_s=0.5, clock=lambda: clock["t"], sleep=sleep,
                         sampling="inline")
    reading = window.idle()
    assert (reading.method, reading.domain) == ("sampled", "ina3221:VDD_IN")
    assert reading.mean_power_w == pytest.approx(5.0)
    assert reading.energy_j == pytest.approx(5.0 * reading.elapsed_s)


# --------------------------------------------------------------------------- detection


def test_parse_device():
    assert parse_device("cpu") == ("cpu", None)
    assert parse_device("cuda:1") == ("cuda", 1)
    with pytest.raises(ValueError):
        parse_device("cuda:x")


def test_probe_statuses_on_this_machine():
    statuses = probe_statuses("cpu")
    assert [s.name for s in statuses] == ["rapl", "nvml", "jtop", "ina3221"]
    by_name = {s.name: s for s in statuses}
    for status in statuses:
        if status.available:
            assert status.domain and status.method in ("counter", "sampled") and status.reason is None
        else:
            assert status.reason and status.domain is None
    rapl = by_name["rapl"]
    if not Path("/sys/class/powercap").exists():
        assert not rapl.available and "/sys/class/powercap" in rapl.reason
    if importlib.util.find_spec("pynvml") is None:
        assert by_name["nvml"].reason == "nvidia-ml-py is not installed (pip install '.[nvidia]')"
    if not Path("/etc/nv_tegra_release").exists():
        assert by_name["jtop"].reason == "not a Jetson board (/etc/nv_tegra_release missing)"
    if not Path("/sys/bus/i2c/drivers/ina3221x").exists() and not Path("/sys/class/hwmon").exists():
        assert by_name["ina3221"].reason.startswith("no INA3221 power monitor: ")


def test_probe_statuses_with_fakes_finds_all(powercap, tegra, ina_roots):
    make_zone(powercap, "intel-rapl:0", "package-0", 1)
    make_hwmon(ina_roots[1], {"VDD_IN": (5000, 900)})
    fake_nvml = FakeNvml(energy_mj=[0], count=2)
    statuses = probe_statuses(
        "cuda:1", rapl_root=powercap, nvml=fake_nvml, cuda_uuid=None,
        jtop_factory=lambda **kw: FakeJtop(power=jtop_power()), tegra_release=tegra,
        ina3221_iio_root=ina_roots[0], ina3221_hwmon_root=ina_roots[1],
    )
    assert [(s.name, s.available, s.domain, s.method) for s in statuses] == [
        ("rapl", True, "rapl:package-0", "counter"),
        ("nvml", True, "nvml:gpu1", "counter"),
        ("jtop", True, "jetson:VDD_IN", "sampled"),
        ("ina3221", True, "ina3221:VDD_IN", "sampled"),
    ]
    assert fake_nvml.shutdown_calls == 1  # probes opened for the status are closed


def test_open_probe_picks_by_device(powercap, tmp_path):
    make_zone(powercap, "intel-rapl:0", "package-0", 1)
    factory = ProbeFactory(rapl_root=powercap, nvml=FakeNvml(energy_mj=[0]), cuda_uuid=None,
                           tegra_release=tmp_path / "absent")
    with open_probe("cpu", factory=factory) as probe:
        assert isinstance(probe, RaplProbe)
    with open_probe("cuda", factory=factory) as probe:
        assert isinstance(probe, NvmlProbe)
    with open_probe("cuda", prefer="rapl", factory=factory) as probe:
        assert isinstance(probe, RaplProbe)
    with pytest.raises(ValueError):
        open_probe("cpu", prefer="wattmeter", factory=factory)


def test_open_probe_prefers_jtop_on_a_jetson(powercap, tegra):
    make_zone(powercap, "intel-rapl:0", "package-0", 1)
    factory = ProbeFactory(rapl_root=powercap, tegra_release=tegra,
                           jtop_factory=lambda **kw: FakeJtop(power=jtop_power()))
    assert factory.order("cpu") == ["jtop", "ina3221", "rapl"]
    assert factory.order("cuda:0") == ["jtop", "ina3221", "nvml"]
    with open_probe("cpu", factory=factory) as probe:
        assert isinstance(probe, JtopProbe)


def test_jetson_without_jtop_service_falls_back_to_ina3221(tegra, ina_roots, tmp_path):
    iio, hwmon = ina_roots
    make_iio(iio, {"VDD_IN": 3900, "VDD_GPU": 800})

    def no_service(**kwargs):
        return FakeJtop(start_error=JtopException("The jtop.service is not active."))

    factory = ProbeFactory(rapl_root=tmp_path / "none", tegra_release=tegra, jtop_factory=no_service,
                           ina3221_iio_root=iio, ina3221_hwmon_root=hwmon)
    for device in ("cpu", "cuda:0"):
        with open_probe(device, factory=factory) as probe:
            assert isinstance(probe, Ina3221Probe)
            assert (probe.domain, probe.method) == ("ina3221:VDD_IN", "sampled")
            assert probe.read_power_w() == pytest.approx(3.9)
    with open_probe("cuda", prefer="ina3221", factory=ProbeFactory(
            ina3221_iio_root=iio, ina3221_hwmon_root=hwmon, ina3221_rail="VDD_GPU")) as probe:
        assert probe.domain == "ina3221:VDD_GPU"


def test_open_probe_joins_reasons_when_nothing_works(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)
    with pytest.raises(ProbeUnavailable) as err:
        open_probe("cuda:0", rapl_root=tmp_path / "none", tegra_release=tmp_path / "absent", cuda_uuid=None,
                   ina3221_iio_root=tmp_path / "none", ina3221_hwmon_root=tmp_path / "none")
    assert set(err.value.reasons) == {"nvml", "jtop", "ina3221"}
    assert "nvml: nvidia-ml-py is not installed" in err.value.reason
    assert "jtop: not a Jetson board" in err.value.reason
    assert "ina3221: no INA3221 power monitor" in err.value.reason
    with pytest.raises(ProbeUnavailable) as err:
        open_probe("cpu", rapl_root=tmp_path / "none", tegra_release=tmp_path / "absent",
                   ina3221_iio_root=tmp_path / "none", ina3221_hwmon_root=tmp_path / "none")
    assert set(err.value.reasons) == {"rapl", "jtop", "ina3221"}
    with pytest.raises(ProbeUnavailable) as err:
        open_probe("mps", tegra_release=tmp_path / "absent")
    assert "no power backend measures 'mps' devices" in err.value.reason


def test_open_probe_prefer_is_strict(tmp_path, monkeypatch):
    """A requested backend that is missing is reported, not replaced by another."""
    make_zone(tmp_path / "pc", "intel-rapl:0", "package-0", 1)
    monkeypatch.setitem(sys.modules, "pynvml", None)
    with pytest.raises(ProbeUnavailable) as err:
        open_probe("cpu", prefer="nvml", rapl_root=tmp_path / "pc", tegra_release=tmp_path / "absent")
    assert set(err.value.reasons) == {"nvml"}
