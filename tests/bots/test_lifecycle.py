"""The bot lifecycle table, the meeting links it recognises, and the channel mixer."""

from __future__ import annotations

import numpy as np
import pytest

from livetranslate.bots.lifecycle import LEGAL, SUB_CODES, TERMINAL, BotState, SubCode, check, ending
from livetranslate.bots.mixer import Mixer
from livetranslate.bots.platforms import recognise
from livetranslate.errors import Conflict, InvalidInput, UnsupportedUrl

S, C = BotState, SubCode
MEET = "https://meet.google.com"


def test_every_state_has_its_moves_and_the_ends_have_none():
    assert set(LEGAL) == set(BotState)
    assert all(not LEGAL[s] for s in TERMINAL)
    assert LEGAL[S.call_ended] == {S.done}
    # every state but the ends can fail, and every state in or at a meeting can leave
    assert all(S.fatal in LEGAL[s] for s in BotState if s not in TERMINAL and s not in (S.call_ended,))
    assert all(S.leaving in LEGAL[s] for s in (S.joining, S.in_waiting_room, S.in_call_recording, S.paused))


@pytest.mark.parametrize("old,new", [
    (S.scheduled, S.in_call_recording), (S.in_waiting_room, S.in_call_recording), (S.done, S.joining),
    (S.fatal, S.done), (S.call_ended, S.joining), (S.leaving, S.in_call_recording), (S.in_call_recording, S.joining),
])
def test_illegal_moves_are_refused(old, new):
    with pytest.raises(Conflict, match=f"from {old.value} to {new.value}"):
        check(old, new, None)


def test_ends_say_why_with_a_sub_code_of_their_own():
    check(S.in_call_recording, S.call_ended, C.timeout_exceeded_everyone_left)
    check(S.joining, S.fatal, C.meeting_not_found)
    with pytest.raises(InvalidInput, match="needs a sub-code"):
        check(S.in_call_recording, S.call_ended, None)
    with pytest.raises(InvalidInput, match="cannot carry"):
        check(S.joining, S.fatal, C.timeout_exceeded_silence)  # a call_ended reason
    with pytest.raises(InvalidInput, match="cannot carry"):
        check(S.in_call_not_recording, S.in_call_recording, C.no_audio)
    assert SUB_CODES[S.call_ended].isdisjoint(SUB_CODES[S.fatal])


def test_a_users_leave_wins_the_race():
    assert ending(S.call_ended, C.timeout_exceeded_everyone_left, "alone", leave_requested=True)[:2] == (
        S.call_ended, C.bot_received_leave_call)
    state, code, message = ending(S.fatal, C.browser_crashed, "gone", leave_requested=True)
    assert (state, code) == (S.call_ended, C.bot_received_leave_call) and "browser_crashed" in message
    assert ending(S.call_ended, C.call_ended_by_host, "", leave_requested=False)[1] is C.call_ended_by_host
    assert ending(S.in_call_recording, None, "", leave_requested=True)[0] is S.in_call_recording


@pytest.mark.parametrize("url,meeting_id", [
    ("https://meet.google.com/abc-defg-hij", "abc-defg-hij"),
    ("https://meet.google.com/abc-defg-hij?authuser=1&pli=1", "abc-defg-hij"),
    (" https://MEET.google.com/abc-defg-hij/ ", "abc-defg-hij"),
])
def test_google_meet_links_are_recognised(url, meeting_id):
    m = recognise(url, meet_base_url=MEET)
    assert (m.platform, m.meeting_id, m.url) == ("google_meet", meeting_id, f"{MEET}/{meeting_id}")


def test_a_stand_in_origin_is_google_meet_too():
    m = recognise("http://127.0.0.1:9999/xyz-abcd-efg", meet_base_url="http://127.0.0.1:9999")
    assert m.url == "http://127.0.0.1:9999/xyz-abcd-efg"
    with pytest.raises(UnsupportedUrl):
        recognise("http://127.0.0.1:9999/xyz-abcd-efg", meet_base_url=MEET)


@pytest.mark.parametrize("url,says", [
    ("https://us02web.zoom.us/j/85012345678?pwd=abc", "Zoom meetings are not supported yet"),
    ("https://teams.microsoft.com/l/meetup-join/19%3ameeting_x/0", "Microsoft Teams meetings are not supported yet"),
    ("https://teams.live.com/meet/9876543210", "Microsoft Teams meetings are not supported yet"),
    ("https://meet.google.com/landing", "names no meeting"),
    ("https://example.org/abc-defg-hij", "no meeting link"),
    ("meet.google.com/abc-defg-hij", "no meeting link"),  # no scheme: not a link
    ("ftp://meet.google.com/abc-defg-hij", "no meeting link"),
])
def test_other_links_are_refused_with_what_is_supported(url, says):
    with pytest.raises(UnsupportedUrl, match=says) as e:
        recognise(url, meet_base_url=MEET)
    assert "https://meet.google.com/abc-defg-hij" in e.value.message


def _block(value: int, n: int = 1600) -> np.ndarray:
    return np.full(n, value, np.int16)


def test_the_mixer_sums_channels_on_the_clock_and_fills_silence():
    m = Mixer(stall_s=0.1)
    m.add(0, 1000, _block(100))  # channel 0 from frame 1000
    m.add(1, 1000, _block(50))  # channel 1, same stretch
    m.add(0, 1000 + 1600, _block(10))  # channel 0 goes on; channel 1 has not delivered that yet
    out = np.frombuffer(m.take(), "<i2")
    assert out.size == 1600 and (out == 150).all()  # what both channels delivered, at once
    m.add(1, 1000 + 1600, _block(0, 16000 - 1600))  # then a second of nothing on channel 1
    out = np.frombuffer(m.take(), "<i2")
    assert out.size == 16000 - 1600  # channel 0 is 0.8 s behind: stalled, not waited for
    assert (out[:1600] == 10).all() and (out[1600:] == 0).all()
    assert m.seconds(1000 + 8000) == 0.5


def test_the_mixer_waits_for_a_new_channels_first_block_and_drops_nothing_when_all_are_late():
    m = Mixer(stall_s=0.3)
    m.expect(0, 0)  # the page began to capture a channel: its first block comes 50 ms on
    m.add(1, 400, _block(7, 800))  # another channel's first block, starting later
    assert m.take() == b""  # channel 0 has not delivered its first 50 ms yet
    m.add(0, 0, _block(3, 800))
    out = np.frombuffer(m.take(), "<i2")
    assert out.size == 800 and (out[:400] == 3).all() and (out[400:] == 10).all() and m.dropped == 0
    m.clock(800 + 16000)  # the page's clock runs a second ahead (its main thread was held up) ...
    m.add(0, 800, _block(1, 800))  # ... and the blocks come late, together: none is dropped
    m.add(1, 1200, _block(1, 800))
    assert np.frombuffer(m.take(), "<i2").size == 800 and m.dropped == 0


def test_the_mixer_waits_for_a_lagging_channel_only_until_it_counts_as_stalled():
    m = Mixer(stall_s=0.3)
    m.add(0, 0, _block(1, 800))
    m.add(1, 0, _block(2, 800))
    assert len(m.take()) == 800 * 2
    for i in range(1, 5):  # channel 1 stops delivering; channel 0 goes on, 50 ms at a time
        m.add(0, i * 800, _block(1, 800))
    assert m.take() == b""  # 0.2 s behind: still waited for
    for i in range(5, 12):
        m.add(0, i * 800, _block(1, 800))
    out = np.frombuffer(m.take(), "<i2")
    assert out.size == 12 * 800 - 800 and (out == 1).all()  # stalled: no longer waited for
    m.add(1, 800, _block(2, 800))  # it comes back late: its let-out part is dropped
    assert m.dropped == 800


def test_the_mixer_drops_what_comes_after_its_time_and_clips_sums():
    m = Mixer(stall_s=0.0)
    m.add(0, 0, _block(30000))
    m.add(1, 0, _block(30000))
    first = np.frombuffer(m.take(), "<i2")
    assert (first == 32767).all()
    m.add(1, 800, _block(5))  # late: its first half was let out already
    assert m.dropped == 800
    m.clock(2400)
    assert (np.frombuffer(m.take(), "<i2") == 5).all()


def _channel(edges, channel: int, loud: list[tuple[float, float]], until: float, since: float = 0.0) -> None:
    """100 ms blocks on one channel from ``since`` to ``until`` s, loud inside the stretches given."""
    for i in range(int(round(since * 10)), int(until * 10)):
        t = i / 10
        on = any(a <= t < b for a, b in loud)
        edges.add(channel, i * 1600, _block(3000 if on else 20))


def test_a_rings_lag_is_taken_back_where_one_channel_says_when_the_voice_changed():
    from livetranslate.bots.edges import Edges

    edges = Edges()
    _channel(edges, 0, [(2.0, 9.1)], 12)  # Ana's channel: she stops at 9.1 s
    _channel(edges, 1, [(8.1, 11.0)], 12)  # Bob's: he starts at 8.1 s, while she still speaks
    _channel(edges, 2, [], 12)  # a silent channel
    assert edges.refine("off", int(9.9 * 16000)) == (int(9.1 * 16000), True)  # her ring went off 0.8 s late
    assert edges.refine("on", int(8.4 * 16000)) == (int(8.1 * 16000), True)  # his came on 0.3 s late
    # no channel changed just before: the ring's own time stands, and is not called exact
    assert edges.refine("on", int(5.0 * 16000)) == (int(5.0 * 16000), False)
    for until, kind, at in ((3.5, "on", 3.4), (7.0, "off", 6.8)):  # as the blocks arrive, in real time
        both = Edges()
        _channel(both, 0, [(3.0, 6.0)], until)
        _channel(both, 1, [(3.1, 6.1)], until)  # two voices start and stop together: the audio cannot say who
        assert both.refine(kind, int(at * 16000)) == (int(at * 16000), False), kind


def test_a_rings_off_takes_the_channel_of_its_on_when_another_voice_paused_meanwhile():
    from livetranslate.bots.edges import Edges

    edges = Edges()
    _channel(edges, 0, [(2.0, 9.1)], 3.0)
    assert edges.refine("on", int(2.3 * 16000), "ana") == (int(2.0 * 16000), True)  # channel 0 is Ana's
    _channel(edges, 0, [(2.0, 9.1)], 12, since=3.0)
    _channel(edges, 1, [(8.1, 9.6), (9.8, 10.2)], 12)  # Bob, with a pause, stops 0.3 s before her ring goes off
    assert edges.refine("off", int(10.5 * 16000), "ana") == (int(9.1 * 16000), True)
    assert edges.refine("off", int(10.5 * 16000), "eve") == (int(10.5 * 16000), False)  # no channel of hers
    talking = Edges()
    _channel(talking, 0, [(2.0, 12.0)], 3.0)
    assert talking.refine("on", int(2.3 * 16000), "ana")[1]
    _channel(talking, 0, [(2.0, 12.0)], 12, since=3.0)  # her channel still sounds at her ring's off
    _channel(talking, 1, [(8.1, 9.6)], 12)  # Bob's fell silent: that is not her voice stopping
    assert talking.refine("off", int(10.5 * 16000), "ana") == (int(10.5 * 16000), False)
