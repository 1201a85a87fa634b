import pytest

from helpers.course.power_demo import SYNTHETIC, power_demo_summary, power_window_demo


def test_the_window_code_gives_back_what_a_noiseless_trace_was_made_with():
    demo = power_window_demo(idle_w=2.0, active_w=7.0, noise_w=0.0, window_s=1.0, images_per_call=4, call_s=0.1)
    assert demo.net.net_power_w == pytest.approx(5.0) and demo.net.idle_power_w == pytest.approx(2.0)
    # energy per image: 5 W net for 0.1 s per call of 4 images
    assert demo.net.energy_per_image_j == pytest.approx(5.0 * 0.1 / 4)
    assert set(demo.trace["window"]) == {"idle", "active"} and demo.label == SYNTHETIC


def test_the_synthetic_summary_states_its_numbers_and_says_it_is_synthetic():
    demo = power_window_demo(seed=3)
    text = power_demo_summary(demo)
    assert text.startswith(f"**{SYNTHETIC}.**") and "true net power is 11.80 W" in text
    assert f"gives {demo.net.net_power_w:.2f} W net" in text and f"{demo.active.n_reads} active readings" in text
    assert demo.net.net_power_w != pytest.approx(11.8, abs=1e-6), "noise moves the estimate"
    other = power_demo_summary(power_window_demo(active_w=5.0, seed=3))
    assert "true net power is 3.70 W" in other


@pytest.mark.parametrize("bad", [{"window_s": 0}, {"call_s": -1}, {"images_per_call": 0}])
def test_bad_demo_settings_are_named(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        power_window_demo(**bad)
