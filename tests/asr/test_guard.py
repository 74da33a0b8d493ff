"""The hallucination guard in every script: loops are dropped, real sentences are kept."""

from __future__ import annotations

import subprocess

import pytest

from livetranslate.asr import DecodeOptions, WhisperAsr
from livetranslate.asr.guard import looks_broken, rejection
from livetranslate.asr.whisper import Transcription
from livetranslate.audio import decode_file
from livetranslate.settings import Settings
from tests.conftest import LIBRIVOX

# What Whisper produced, here or in the first-hour report (issue 12), from espeak speech.
LOOPS = {
    "thai, espeak French detected as Thai": "บุษอุธบุษบุษอุธบุษอ",
    "japanese syllable loop": "おうは、おう、おう、おう、おう、",
    "japanese letter loop": "おぷぷぷぷぷぷ",
    "japanese katakana loop": "チァミスレタチァミスレタチァミスレタチァミスレタチァミスレタ",
    "chinese phrase loop": "第四第五分,第四第五分,第四第五分,第四第五分,第四第五",
    "thai two-syllable loop": "โธโธ โธโธ ปลินธ",
    "latin word loop": "I I'm I'm I'm I'm",
    # espeak French decoded with CTranslate2 forced to each CPU ISA (CT2_FORCE_CPU_ISA): the
    # decoder stopped inside its loop
    "japanese loop cut short": "おじゅうは、おじゅう、ぷりぷりぷりぷ",
    "thai loop cut short": "บุษภาษุษภาษุษภา",
    "chinese phrase loop cut short": "不如阿肚子,我如你不如阿肚子,我如你不如阿",
}

REAL = {
    "th": "สวัสดีตอนเช้าทุกคน วันนี้เราจะคุยเรื่องงบประมาณไตรมาสหน้า",
    "th short": "เราต้องทำรายงานให้เสร็จก่อนวันศุกร์",
    "th question": "ที่นี่ที่ไหน",
    # 216 letters: Whisper's byte compression ratio measured 2.48 (over its 2.4 threshold)
    "th long": "ประเทศไทยมีประชากรประมาณเจ็ดสิบล้านคน กรุงเทพมหานครเป็นเมืองหลวงและเป็นศูนย์กลางทาง"
    "เศรษฐกิจ การท่องเที่ยวเป็นรายได้หลักของประเทศ นักท่องเที่ยวจำนวนมากเดินทางมาเที่ยวทะเลและ"
    "วัดวาอารามที่สวยงาม อาหารไทยมีชื่อเสียงไปทั่วโลก",
    "zh": "大家早上好。今天我们要讨论下个季度的预算。",
    "zh filler": "对对对，我们下周再讨论这个问题。",
    "zh long": "中华人民共和国是一个位于东亚的国家，人口超过十四亿。北京是首都，上海是最大的城市。中国有着悠久的"
    "历史和灿烂的文化，长城和故宫是世界闻名的古迹。近几十年来，中国经济快速发展，已经成为世界第二大经济体。"
    "我们今天的会议主要讨论明年的工作计划和预算安排，请大家积极发言。",
    "ja": "皆さん、おはようございます。今日は来期の予算について話し合います。",
    "ja thanks twice": "ありがとうございます、ありがとうございます。",
    "ja long": "日本は東アジアに位置する島国で、人口は約一億二千万人です。首都は東京で、世界でも有数の大都市です。"
    "日本の文化は伝統と現代が調和しており、寿司やラーメンなどの料理は世界中で人気があります。今日の会議では、"
    "来年度の事業計画と予算について話し合いたいと思います。ご意見のある方は遠慮なくおっしゃってください。",
    "ko": "여러분 안녕하세요. 오늘은 다음 분기 예산에 대해 이야기하겠습니다.",
    "lo": "ສະບາຍດີ ທຸກຄົນ ມື້ນີ້ພວກເຮົາຈະສົນທະນາກ່ຽວກັບງົບປະມານ",
    "km": "អរុណសួស្តី​អ្នក​ទាំងអស់​គ្នា ថ្ងៃនេះ​យើង​នឹង​ពិភាក្សា​អំពី​ថវិកា",
    "my": "မင်္ဂလာပါ အားလုံးပဲ ဒီနေ့ ကျွန်တော်တို့ ဘတ်ဂျက်အကြောင်း ဆွေးနွေးပါမယ်",
    "ru": "Доброе утро всем. Сегодня мы обсудим бюджет на следующий квартал.",
    "es": "Buenos días a todos. Hoy vamos a revisar el presupuesto del próximo trimestre.",
    "en numbers": "The budget grew from 1000000 to 2500000 dollars in 2024.",
}


@pytest.mark.parametrize("text", LOOPS.values(), ids=LOOPS.keys())
def test_loops_in_any_script_are_rejected(text):
    kept = Transcription(text=text, language="th", avg_logprob=-0.3, no_speech_prob=0.01)
    assert looks_broken(text) and rejection(kept) == "repetition"


@pytest.mark.parametrize("text", REAL.values(), ids=REAL.keys())
def test_real_sentences_in_any_script_are_kept(text):
    assert rejection(Transcription(text=text, language=None, avg_logprob=-0.3, no_speech_prob=0.01)) is None


def test_real_english_transcripts_are_kept():
    lines = [line.split("(")[0].replace("<s>", "").replace("</s>", "").strip()
             for line in (LIBRIVOX / "transcription").read_text().splitlines() if line.strip()]
    assert len(lines) >= 5
    for text in [*lines, " ".join(lines)]:
        assert not looks_broken(text), text


@pytest.fixture(scope="module")
def base():
    return WhisperAsr("base", models_dir=Settings().models_dir)


def _espeak(tmp_path, voice: str, speed: int, text: str):
    path = tmp_path / f"{voice}-{speed}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text], check=True)
    return decode_file(path)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_syllable_loop_from_a_real_decode_is_rejected(base, tmp_path, language):
    # Whisper writes espeak's "ba ba ba ..." (16 syllables) as one run of 22 and more, without
    # spaces: 'バババババ…' and 'BABABABA…', the same under every CPU ISA CTranslate2 has (a
    # French sentence decoded as another language loops too, but differently on each)
    audio = _espeak(tmp_path, "en", 175, " ".join(["ba"] * 16))
    result = base.transcribe(audio, DecodeOptions(language=language, fallback=False))
    assert result.rejected == "repetition", (result.language, result.text)


def test_real_japanese_speech_is_kept(base, tmp_path):
    audio = _espeak(tmp_path, "ja", 140, "皆さん、おはようございます。今日は来期の予算について話し合います。")
    result = base.transcribe(audio, DecodeOptions(language="ja"))
    assert result.rejected is None and "おはよう" in result.text, result.text
