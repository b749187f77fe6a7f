"""Plain German in the flow texts of the latest flow version (docs/plain-language.md).

The German comes from the catalog compiled afresh from locales/de (the `tr_de` fixture), so
these tests read what respondents and managers will see. Three checks:

- no English words in German sentences, except inside a parenthesised explanation or in a
  product name;
- abbreviations (BSP, MDM, DSFA, CRM, AVV, eAU) only after their German long form in the same text;
- the checklist actions are readable: on average at least 50 on the Amstad scale (Flesch
  reading ease for German), and each starts with an imperative ("Prüfen Sie …").
"""

from __future__ import annotations

import re
import statistics
from functools import cache

import bot
from bot import resources
from bot.engine import Flow
from bot.flowcode import FLOW_CODE

FLOW_ID = "whatsapp_gdpr"

# English words that must not stand in a German sentence. A parenthesised explanation may
# name them (for example "die Schnittstelle von Meta (Cloud API)"), and product names keep
# them (PRODUCT_NAMES). Each pattern is matched case-sensitively unless it carries (?i).
ENGLISH_WORDS = {
    "Platform": r"Platform",  # the German short form is "WhatsApp-Business-Plattform", then "Plattform"
    "API / Cloud API": r"\bAPI\b",  # "die Schnittstelle von Meta (Cloud API)"
    "Business Solution Provider": r"Solution Provider",  # "Dienstleister für die WhatsApp-Anbindung (BSP)"
    "Opt-in / Opt-out": r"(?i)\bopt-(in|out)",  # "Einwilligung", "Abmeldung"
    "Template": r"(?i)template",  # "Nachrichtenvorlage"
    "Onboarding": r"(?i)onboarding",  # "Einrichtung"
    "Backup": r"(?i)backup",  # "Sicherung"
    "Hosting": r"(?i)\bhost(ing|et|en)\b|Hosting",  # "Speicherort", "speichert"
    "Framework": r"(?i)framework",  # "Datenschutzrahmen EU-USA"
    "Tracking": r"(?i)tracking",  # "Messwerkzeuge"
    "Click-to-Chat": r"(?i)click-to",  # "Links, die einen Chat öffnen"
    "Policy": r"(?i)\bpolicy\b",  # "Regeln von WhatsApp für Unternehmensnachrichten"
    "Helpdesk": r"(?i)helpdesk",  # "Ticketsystem"
    "Screenshot": r"(?i)screenshot",  # "Bildschirmfoto"
    "Inbox": r"(?i)inbox",  # "Posteingang"
    "Login": r"(?i)\blogins?\b",  # "Zugang"
    "Account": r"(?i)\baccounts?\b",  # "Konto"
    "Upload": r"(?i)upload",  # "Hochladen"
    "Tool": r"\bTools?\b",  # "Werkzeug"
    "BYOD": r"\bBYOD\b",  # "private Geräte"
    "Business (outside product names)": r"\bBusiness\b",  # "Firmen-Messenger"
    "Agent (outside product names)": r"\bAgent(en)?\b",  # "KI-Assistent"
    # English function words: they only appear when a sentence was left in English.
    "English sentence": r"\b(the|and|your|you|with|of|for|is|are|to)\b",
}

# Names of products and instruments: they stay as they are called (longest first).
PRODUCT_NAMES = (
    "WhatsApp-Business-Plattform",
    "WhatsApp Business App",
    "WhatsApp Business",
    "Meta Business Agent",
    "Business AI",
    "Meta AI",
    "Threema Work",
    "Microsoft Teams",
    "Google Drive",
)

# Abbreviations a reader may not know: each needs one of its German long forms earlier in the same text.
ABBREVIATIONS = {
    "BSP": ("Dienstleister",),
    "MDM": ("Geräteverwaltung",),
    "DSFA": ("Datenschutz-Folgenabschätzung",),
    "CRM": ("Kundendatenbank",),
    "AVV": ("Auftragsverarbeitung",),
    "eAU": ("Arbeitsunfähigkeitsbescheinigung", "Krankschreibung"),
}

AMSTAD_MINIMUM = 50.0
TITLE_MAX_WORDS = 8


@cache
def latest_flow() -> Flow:
    """The latest version of the main flow, as new assessments use it."""
    flows = bot.load_flows(resources.flows_dir(), code=FLOW_CODE)
    return flows[max(key for key in flows if key[0] == FLOW_ID)]


def without_parentheses(text: str) -> str:
    """The text without parenthesised parts (innermost first), where explanations and references stand."""
    previous = None
    while previous != text:
        previous, text = text, re.sub(r"\([^()]*\)", " ", text)
    return text


def english_words(text: str) -> list[str]:
    """The names of the ENGLISH_WORDS entries that occur outside parentheses and product names."""
    rest = without_parentheses(text)
    for name in PRODUCT_NAMES:
        rest = rest.replace(name, " ")
    return [name for name, pattern in ENGLISH_WORDS.items() if re.search(pattern, rest)]


def unexplained_abbreviations(text: str) -> list[str]:
    """The abbreviations used before (or without) their German long form in this text."""
    found = []
    for abbreviation, long_forms in ABBREVIATIONS.items():
        use = re.search(rf"\b{abbreviation}\b", text)
        if use is None:
            continue
        explained = [text.find(form) for form in long_forms if 0 <= text.find(form) < use.start()]
        if not explained:
            found.append(abbreviation)
    return found


# --- Readability: Amstad (1978), Flesch's reading ease for German ---------------------------
# Amstad = 180 - ASL - 58.5 * ASW (ASL: words per sentence, ASW: syllables per word).
# 0-30 very hard, 30-50 hard, 50-60 fairly hard, 60-70 medium, 70-80 fairly easy.

# Tokens ending in a full stop that do not end a sentence.
_ABBREVIATION_STOPS = {"art", "abs", "nr", "lit", "s", "z", "b", "bzw", "ggf", "ff", "vgl", "usw", "etc", "ca", "d", "h"}
_WORD = re.compile(r"[0-9A-Za-zÄÖÜäöüß]+(?:[-–/][0-9A-Za-zÄÖÜäöüß]+)*")
_VOWEL_GROUP = re.compile(r"[aeiouyäöü]+")
# Two vowel letters that German reads as one syllable; other vowel pairs are two ("Situ-a-ti-on", "Ko-existenz").
_ONE_SOUND = ("ai", "au", "ay", "ei", "eu", "ey", "ie", "äu", "aa", "ee", "oo")


def sentences(text: str) -> list[str]:
    """The sentences of a text: split after . ! ? before a capital, quote, bracket or the end.

    Legal abbreviations ("Art.", "Abs.", "Nr.", "lit.", "z. B.") and ordinals ("25.") do not end one.
    """
    tokens = text.split()
    out: list[str] = []
    current: list[str] = []
    for i, token in enumerate(tokens):
        current.append(token)
        if not re.search(r"[.!?][)\"“”»]*$", token):
            continue
        core = token.strip('()„“”"»«').rstrip(".!?").lower()
        if token.rstrip(')"“”»').endswith(".") and (core in _ABBREVIATION_STOPS or core.isdigit()):
            continue
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if following and not re.match(r"[(\"„»]*[A-ZÄÖÜ0-9]", following):
            continue
        out.append(" ".join(current))
        current = []
    if current:
        out.append(" ".join(current))
    return out


def syllables(word: str) -> int:
    """German syllables of a word, by vowel groups (a hyphenated compound counts each part)."""
    count = 0
    for part in re.split(r"[-–/]", word.lower()):
        part_count = 0
        for group in _VOWEL_GROUP.findall(part):
            i = 0
            while i < len(group):
                i += 2 if group[i : i + 2] in _ONE_SOUND else 1
                part_count += 1
        count += max(1, part_count) if part else 0
    return max(1, count)


def amstad(text: str) -> float:
    """The Amstad reading ease of a German text (higher is easier)."""
    words = _WORD.findall(text)
    asl = len(words) / len(sentences(text))
    asw = sum(syllables(w) for w in words) / len(words)
    return 180 - asl - 58.5 * asw


def german_actions(tr_de) -> dict[str, str]:
    """The German action of every checklist item of the latest flow, by item id."""
    return {item.id: str(tr_de.pgettext(item.action.context, item.action.source)) for item in latest_flow().checklist}


# --- Tests --------------------------------------------------------------------------------------


def test_the_readability_measure_behaves():
    """The measure itself: syllables, sentence ends and the Amstad scale on known examples."""
    words = ("Datenschutz", "Auftragsverarbeitungsvertrag", "Situation", "neue", "Ende-zu-Ende-verschlüsselt", "72")
    assert [syllables(w) for w in words] == [3, 8, 5, 2, 8, 1]
    assert len(sentences("Prüfen Sie Art. 6 Abs. 1 lit. b DSGVO. Legen Sie z. B. eine Regel fest. Im 25. Bericht steht es.")) == 3
    assert amstad("Das ist gut. Wir lesen.") > 80 > amstad("Auftragsverarbeitungsvertragsverhandlungen verursachen Datenschutzfolgenabschätzungsaufwand.")


def test_the_jargon_check_behaves():
    """The checks themselves: parentheses and product names allowed, explanations must come first."""
    assert english_words("Nutzen Sie die Business Platform.") == ["Platform", "Business (outside product names)"]
    assert english_words("die Schnittstelle von Meta (Cloud API) und die WhatsApp Business App") == []
    assert english_words("Holen Sie ein Opt-in ein und machen Sie ein Backup.") == ["Opt-in / Opt-out", "Backup"]
    assert unexplained_abbreviations("Über einen BSP.") == ["BSP"]
    assert unexplained_abbreviations("Über einen Dienstleister (BSP). Der BSP speichert.") == []
    assert unexplained_abbreviations("Eine DSFA, also eine Datenschutz-Folgenabschätzung.") == ["DSFA"]


def test_german_flow_texts_use_no_english_words(tr_de):
    """Every German text of the latest flow: no English words outside explanations and product names."""
    problems = []
    for msg in latest_flow().messages():
        german = str(tr_de.pgettext(msg.context, msg.source))
        if words := english_words(german):
            problems.append(f"{msg.context}: {', '.join(words)}: {german[:90]}…")
    assert not problems, "English in German flow texts (docs/plain-language.md):\n" + "\n".join(problems)


def test_abbreviations_are_explained_at_first_use(tr_de):
    """Every abbreviation of the list follows its German long form in the same text."""
    problems = []
    for msg in latest_flow().messages():
        german = str(tr_de.pgettext(msg.context, msg.source))
        if found := unexplained_abbreviations(german):
            problems.append(f"{msg.context}: {', '.join(found)}: {german[:90]}…")
    assert not problems, "Abbreviations without their German long form first:\n" + "\n".join(problems)


def test_checklist_actions_read_plainly(tr_de, capsys):
    """The German checklist actions average at least 50 on the Amstad scale (the issue measured 41, "hard")."""
    actions = german_actions(tr_de)
    scores = {item_id: amstad(text) for item_id, text in actions.items()}
    mean = statistics.mean(scores.values())
    pooled = amstad(" ".join(actions.values()))
    with capsys.disabled():
        print(
            f"\nAmstad of the German checklist actions (flow {FLOW_ID} v{latest_flow().version}): "
            f"mean {mean:.1f} over {len(scores)} items, all actions together {pooled:.1f}; "
            f"hardest: {', '.join(f'{k} {v:.0f}' for k, v in sorted(scores.items(), key=lambda kv: kv[1])[:3])}"
        )
    assert mean >= AMSTAD_MINIMUM, f"mean Amstad {mean:.1f} < {AMSTAD_MINIMUM}: {scores}"


def test_checklist_actions_start_with_an_imperative(tr_de):
    """Each action starts with what to do: a verb and "Sie" ("Prüfen Sie …", "Schließen Sie …")."""
    not_imperative = {item_id: text[:40] for item_id, text in german_actions(tr_de).items() if not re.match(r"[A-ZÄÖÜ][a-zäöüß]+ Sie\b", text)}
    assert not not_imperative


def test_checklist_titles_are_short(tr_de):
    """Item titles fit on a phone line or two: at most eight words."""
    titles = {item.id: str(tr_de.pgettext(item.title.context, item.title.source)) for item in latest_flow().checklist}
    assert not {item_id: title for item_id, title in titles.items() if len(title.split()) > TITLE_MAX_WORDS}
