import json
import os

import pytest

from core.lexicon import files
from core.lexicon.entry import LexiconEntry
from core.lexicon.errors import InvalidLexiconFile, LexiconFileError
from core.lexicon.files import MAX_FILE_BYTES, read_lexicon, write_lexicon
from core.lexicon.json_file import from_document, to_document
from core.lexicon.lexicon import Lexicon

PLS_NAMESPACE = "http://www.w3.org/2005/01/pronunciation-lexicon"
AWKWARD = Lexicon((
    LexiconEntry("Nguyen", "Win", note="the director, not the town"),
    LexiconEntry("SQL", "sequel", case_sensitive=True),
    LexiconEntry("New York", 'Noo "Yawk", really'),
    LexiconEntry("Nguyễn & Sons", "Win and Sons", note="a note\nover two lines, with \"quotes\""),
    LexiconEntry("=SUM", "sum"),
))


def written(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("name", ["lexicon.json", "lexicon.csv", "LEXICON.CSV"])
def test_our_json_and_csv_keep_every_entry_whole(tmp_path, name):
    write_lexicon(tmp_path / name, AWKWARD)
    assert read_lexicon(tmp_path / name) == (AWKWARD, [])


def test_the_json_file_is_the_documented_shape(tmp_path):
    write_lexicon(tmp_path / "lexicon.json", AWKWARD)
    document = json.loads((tmp_path / "lexicon.json").read_text("utf-8"))
    assert document["format"] == "dia-studio-lexicon" and document["version"] == 1
    assert document["entries"][1] == {"written": "SQL", "spoken": "sequel", "caseSensitive": True, "note": ""}
    assert "Nguyễn" in (tmp_path / "lexicon.json").read_text("utf-8")  # readable, not escaped
    assert from_document(to_document(AWKWARD), "project.json") == (AWKWARD, [])


def test_the_csv_file_opens_in_a_spreadsheet_as_utf8_with_the_documented_header(tmp_path):
    write_lexicon(tmp_path / "lexicon.csv", AWKWARD)
    data = (tmp_path / "lexicon.csv").read_bytes()
    assert data.startswith("\ufeffwritten,spoken,case_sensitive,note\r\n".encode("utf-8"))
    assert b"SQL,sequel,true,\r\n" in data


def test_a_pls_file_keeps_words_and_respellings(tmp_path):
    write_lexicon(tmp_path / "lexicon.pls", AWKWARD)
    text = (tmp_path / "lexicon.pls").read_text("utf-8")
    assert f'xmlns="{PLS_NAMESPACE}"' in text and "<alias>sequel</alias>" in text
    assert "<grapheme>Nguyễn &amp; Sons</grapheme>" in text
    lexicon, problems = read_lexicon(tmp_path / "lexicon.pls")
    # PLS has no place for a note or for case-sensitivity
    assert lexicon == Lexicon(tuple(LexiconEntry(entry.written, entry.spoken) for entry in AWKWARD.entries))
    assert problems == []


def test_csv_without_its_optional_columns_with_a_byte_order_mark_and_other_columns(tmp_path):
    path = written(tmp_path / "names.csv", "\ufeffSpoken, Written ,comment\nWin,Nguyen,from Hanoi\n\n"
                                           "sequel,SQL,\n")
    assert read_lexicon(path) == (Lexicon((LexiconEntry("Nguyen", "Win"), LexiconEntry("SQL", "sequel"))), [])
    flags = written(tmp_path / "flags.csv", "written,spoken,case_sensitive\nSQL,sequel,YES\nUS,you ess,0\nIt,it,\n")
    assert [entry.case_sensitive for entry in read_lexicon(flags)[0].entries] == [True, False, False]


def test_a_word_written_twice_in_a_file_is_reported_and_the_first_kept(tmp_path):
    path = written(tmp_path / "twice.csv", "written,spoken\nNguyen,Win\nSQL,sequel\nnguyen,Nwen\n")
    lexicon, problems = read_lexicon(path)
    assert lexicon == Lexicon((LexiconEntry("Nguyen", "Win"), LexiconEntry("SQL", "sequel")))
    assert problems == ['line 4: "nguyen" is already in the lexicon (line 2); this entry is left out.']


def pls(body, root='<lexicon version="1.0" xmlns="%s" alphabet="ipa" xml:lang="en-US">' % PLS_NAMESPACE):
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{root}\n{body}\n</lexicon>\n'


def test_pls_lexemes_with_only_phonemes_are_reported_by_word_and_line(tmp_path):
    path = written(tmp_path / "voices.pls", pls("""  <lexeme>
    <grapheme>Nguyen</grapheme>
    <phoneme>wɪn</phoneme>
    <alias>Win</alias>
  </lexeme>
  <lexeme>
    <grapheme>tomato</grapheme>
    <grapheme>Tomato</grapheme>
    <phoneme>təˈmɑːtoʊ</phoneme>
  </lexeme>
  <lexeme><grapheme>NYC</grapheme><grapheme>N.Y.C.</grapheme>
    <alias>New York</alias><alias prefer="true">New
      York City</alias>
    <example>I live in NYC.</example>
  </lexeme>
  <lexeme><grapheme>empty</grapheme></lexeme>"""))
    lexicon, problems = read_lexicon(path)
    assert lexicon == Lexicon((LexiconEntry("Nguyen", "Win"), LexiconEntry("NYC", "New York City"),
                               LexiconEntry("N.Y.C.", "New York City")))
    assert problems == [
        'line 8: "tomato", "Tomato" has only phonetic pronunciations (<phoneme>), which Dia2 cannot read; '
        "give it an <alias> (how it is said in letters) to use it.",
        'line 18: "empty" has no pronunciation; give it an <alias> (how it is said in letters) to use it.']


def test_a_pls_without_a_namespace_is_read(tmp_path):
    path = written(tmp_path / "plain.xml", pls("<lexeme><grapheme>SQL</grapheme><alias>sequel</alias></lexeme>",
                                               root="<lexicon>"))
    assert read_lexicon(path) == (Lexicon((LexiconEntry("SQL", "sequel"),)), [])


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lexicon [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
]>
<lexicon><lexeme><grapheme>&lol2;</grapheme><alias>x</alias></lexeme></lexicon>
"""
OUTSIDE_FILE = """<?xml version="1.0"?>
<!DOCTYPE lexicon [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<lexicon><lexeme><grapheme>&secret;</grapheme><alias>x</alias></lexeme></lexicon>
"""


@pytest.mark.parametrize("name, content, message", [
    ("bad.json", '{"format": "dia-studio-lexicon", "version": 1, "entries": [}',
     "it is not valid JSON (line 1, column 60: Expecting value)."),
    ("bad.json", "[" * 100_000, "its JSON nests too deeply to be a lexicon."),
    ("other.json", '{"format": "dia-studio-project", "version": 1, "entries": []}',
     'it is not a Dia Studio lexicon: its "format" is "dia-studio-project", not "dia-studio-lexicon".'),
    ("list.json", "[]", 'it is not a Dia Studio lexicon: its "format" is null'),
    ("newer.json", '{"format": "dia-studio-lexicon", "version": 2, "entries": []}',
     "it was written by a newer Dia Studio (lexicon version 2; this one reads version 1)."),
    ("version.json", '{"format": "dia-studio-lexicon", "version": "1", "entries": []}',
     'its "version" must be a whole number from 1, not "1".'),
    ("entries.json", '{"format": "dia-studio-lexicon", "version": 1, "entries": {}}',
     '"entries" must be a list of entries.'),
    ("entry.json", '{"format": "dia-studio-lexicon", "version": 1, "entries": [{"written": "SQL", "spoken": "x"}, '
                   '{"written": "Nguyen"}]}', 'entry 2 has no "spoken".'),
    ("entry.json", '{"format": "dia-studio-lexicon", "version": 1, "entries": ["Nguyen"]}',
     'entry 1 must be an object with "written" and "spoken", not "Nguyen".'),
    ("entry.json", '{"format": "dia-studio-lexicon", "version": 1, "entries": [{"written": "Bob", '
                   '"spoken": "[S2] Rob"}]}', 'entry 1: The respelling "[S2] Rob" of "Bob" holds the speaker tag [S2]'),
    ("entry.json", '{"format": "dia-studio-lexicon", "version": 1, "entries": [{"written": "Bob", '
                   '"spoken": "Rob", "caseSensitive": "no"}]}', 'entry 1: Whether "Bob" is case-sensitive'),
    ("latin1.json", "{\"written\": \"caf\xe9\"}".encode("latin-1"), "it is not UTF-8 text (byte 17)."),
    ("columns.csv", "Nguyen,Win\n", "its first line must name the columns written,spoken,case_sensitive,note "
                                    "(case_sensitive and note may be left out); written and spoken are missing."),
    ("columns.csv", "", "written and spoken are missing."),
    ("columns.csv", "written;spoken\nNguyen;Win\n", "written and spoken are missing."),
    ("columns.csv", "written,spoken,spoken\n", "its first line names the column spoken twice."),
    ("entry.csv", 'written,spoken,case_sensitive,note\nNguyen,Win,false,"a note\nover two lines"\nSQL,,false,\n',
     'line 4: The entry for "SQL" needs its respelling'),
    ("flag.csv", "written,spoken,case_sensitive\nSQL,sequel,maybe\n",
     'line 2: case_sensitive must be true or false, not "maybe".'),
    ("cells.csv", "written,spoken\nNguyen,Win,extra\n",
     "line 2 has 3 cells, more than the 2 columns of the first line"),
    ("quote.csv", 'written,spoken\n"Nguyen,Win\n', "line 2: unexpected end of data."),
    ("latin1.csv", "written,spoken\ncaf\xe9,ka fay\n".encode("latin-1"), "it is not UTF-8 text (byte 19); save it"),
    ("doctype.pls", BILLION_LAUGHS,
     "line 2: it declares a document type (<!DOCTYPE …>), which is refused for safety"),
    ("secret.pls", OUTSIDE_FILE, "line 2: it declares a document type"),
    ("broken.pls", pls("<lexeme><grapheme>SQL</grapheme><alias>sequel</lexeme>"),
     "it is not well-formed XML (line 3, column 48: mismatched tag)."),
    ("entity.pls", pls("<lexeme><grapheme>&nbsp;</grapheme><alias>x</alias></lexeme>"),
     "it is not well-formed XML (line 3, column 19: undefined entity)."),
    ("root.pls", '<?xml version="1.0"?><html><body/></html>',
     "it is not a W3C PLS lexicon: its root element is <html>, not <lexicon>."),
    ("version.pls", pls("", root=f'<lexicon version="2.0" xmlns="{PLS_NAMESPACE}">'),
     "it is PLS version 2.0; Dia Studio reads PLS 1.0."),
    ("nograph.pls", pls("<lexeme>\n<alias>sequel</alias></lexeme>"),
     "line 3: a <lexeme> has no <grapheme>, the word it is for."),
    ("badgraph.pls", pls("<lexeme>\n<grapheme>Bob &lt;S1&gt;</grapheme><alias>Rob</alias></lexeme>"),
     'line 4: The written word "Bob <S1>" holds "<" or ">"'),
])
def test_a_damaged_file_is_refused_with_what_is_wrong_and_where(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    with pytest.raises(InvalidLexiconFile) as refused:
        read_lexicon(path)
    assert str(refused.value).startswith(f"The lexicon {path} cannot be read: ")
    assert message in str(refused.value)


def test_a_file_too_large_to_be_a_lexicon_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_bytes(b"written,spoken\n" + b"x" * MAX_FILE_BYTES)
    with pytest.raises(InvalidLexiconFile, match="it is larger than 5 MB"):
        read_lexicon(path)


def test_a_missing_file_or_a_name_of_another_kind_is_refused(tmp_path):
    with pytest.raises(LexiconFileError, match="The lexicon .*absent.json cannot be read: No such file"):
        read_lexicon(tmp_path / "absent.json")
    with pytest.raises(LexiconFileError, match=r"names.txt is not a lexicon file: its name must end in \.json, \.csv"):
        read_lexicon(tmp_path / "names.txt")
    with pytest.raises(LexiconFileError, match="is not a lexicon file"):
        write_lexicon(tmp_path / "names.txt", AWKWARD)
    assert not (tmp_path / "names.txt").exists()


def test_a_failed_write_leaves_the_file_that_was_there(tmp_path, monkeypatch):
    path = tmp_path / "lexicon.json"
    write_lexicon(path, AWKWARD)
    before = path.read_bytes()

    def full_disk(temporary, data):
        temporary.write_bytes(data[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("core.audio.atomic_write.write_new_file", full_disk)
    with pytest.raises(LexiconFileError, match="cannot be saved: No space left on device; any file there is unchanged"):
        write_lexicon(path, Lexicon())
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["lexicon.json"]


def test_the_formats_are_chosen_by_the_names_ending():
    assert files.LEXICON_SUFFIXES == (".json", ".csv", ".pls", ".xml")
