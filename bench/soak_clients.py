"""The soak's clients: what an integrator sends a `dia-studio serve`, one action at a time.

Kinds (the names ``--mix`` takes):
  sync     an audioInference answered with its results: 1–4 results, every outputType and
           outputFormat, audioSettings, includeCost, ttl (some short enough to expire in the run)
  async    the same acknowledged at once, then getResponse polled until it settles
  voice    a task with one or two voices: known (a mediaUUID uploaded at the start, or its audio
           again), or new (audio never heard, inline or uploaded first): Whisper hears it once
  webhook  results POSTed to a loopback receiver that is down for the first calls of some tasks
  upload   a result PUT to a loopback receiver, down for a while as well
  live     a /v1/live take with or without a voice: finished, cancelled, abandoned mid-take
           (the socket torn down), or left silent until the server's idle timeout ends it
  ws       a WebSocket session at /v1: a task of 2–3 results, some sessions dropped after the
           first result and resumed with their connectionSessionUUID
  poll     getResponse of a task finished earlier: the same results, the same seeds

Every result's audio is fetched (or decoded) and checked for its format's signature, and what a
client was given goes into the ledger; each action's outcome too, with the error codes it met.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random
import re
import socket
import time
import traceback
import uuid
from pathlib import Path

import numpy as np
import soundfile
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import connect

from bench.soak_ledger import Ledger, Outcome, SeenResult, SentTask
from bench.soak_receivers import DeliveryReceiver
from bench.soak_server import ConnectionLost, SoakServer, is_connection_error
from tests.service.live_client import Heard, LiveClient

KINDS = ("sync", "async", "voice", "webhook", "upload", "live", "ws", "poll")
TASK_KINDS = KINDS[:-1]  # those that make audio: counted as completed tasks
VOICES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "voices"

SCRIPTS = (
    "[S1] Hello there. [S2] Hi!",
    "[S1] Are you coming to the rehearsal tonight? [S2] Only if you bring the good coffee.",
    "[S1] The train leaves at nine. (laughs) [S2] Then we had better run.",
    "[S1] Did you hear that? [S2] Hear what? [S1] Never mind, it was the wind.",
    "[S2] I told you the map was upside down. [S1] You did not!",
)
FORMATS = ("MP3", "WAV", "FLAC", "OGG")
OUTPUT_TYPES = ("URL", "base64Data", "dataURI")
LOSSY_SETTINGS = {"MP3": ({"sampleRate": 44100, "bitrate": 128}, {"sampleRate": 24000, "bitrate": 64, "channels": 1}),
                  "OGG": ({"sampleRate": 48000, "bitrate": 96}, {"sampleRate": 24000, "bitrate": 48, "channels": 1})}
MIME = {"MP3": "audio/mpeg", "WAV": "audio/wav", "FLAC": "audio/flac", "OGG": "audio/ogg"}
SHORT_TTL_S = 60  # expires within the soak: the audit expects it gone, not kept
LIVE_VARIANTS = ("finished", "finished", "cancelled", "abandoned", "silent")
# A client that cancels or leaves does so at the first audio, or this soon: the server's idle
# timeout (--live-idle-s) would end a take whose text stopped for longer.
LEAVE_WITHIN_S = 1.0
SETTLE_TIMEOUT_S = 600.0  # a task sent must settle within this (the queue, a restart, retries)
LANDING_TIMEOUT_S = 300.0  # a webhook or upload lands within this (retries 1, 2, 4 … s apart)


def audio_is(fmt: str, content: bytes) -> bool:
    """Whether ``content`` starts as a file of ``fmt`` does."""
    if fmt == "WAV":
        return content[:4] == b"RIFF" and content[8:12] == b"WAVE"
    if fmt == "FLAC":
        return content[:4] == b"fLaC"
    if fmt == "OGG":
        return content[:4] == b"OggS"
    return content[:3] == b"ID3" or (len(content) > 1 and content[0] == 0xFF and content[1] & 0xE0 == 0xE0)


def _first_audio(client: LiveClient, heard: Heard, within_s: float) -> None:
    """Into ``heard`` until the take's first audio, its end, or ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = client.receive(timeout=left)
        except TimeoutError:
            return
        if isinstance(message, bytes):
            heard.audio += message
            return
        heard.messages.append(message)
        if message["type"] in ("done", "error"):
            return


def text_pieces(text: str) -> list[str]:
    """A language model's deltas: each word with its leading space, long words in pieces of four."""
    return re.findall(r"\s*\S{1,4}", text)


class VoiceSource:
    """Voices to send: two known ones (uploaded once at the start) and new ones made on demand."""

    def __init__(self, server: SoakServer):
        self.known_audio = [(VOICES / "speaker1_24k_mono.wav").read_bytes(), (VOICES / "speaker2_48k.ogg").read_bytes()]
        self.known_uuids = []
        for content in self.known_audio:
            _, answer = server.post([{"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()), "operation": "upload",
                                      "media": base64.b64encode(content).decode()}])
            self.known_uuids.append(answer["data"][0]["mediaUUID"])
        self._samples, self._rate = soundfile.read(io.BytesIO(self.known_audio[0]), dtype="float32")

    def new(self, rng: random.Random) -> bytes:
        """A voice no one sent before: the first speaker at another level, with a faint noise of its own."""
        noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 1e-3, len(self._samples)).astype(np.float32)
        out = io.BytesIO()
        soundfile.write(out, self._samples * rng.uniform(0.6, 0.95) + noise, self._rate, format="WAV")
        return out.getvalue()


class Client:
    def __init__(self, index: int, server: SoakServer, receiver: DeliveryReceiver, voices: VoiceSource,
                 ledger: Ledger, clock, seed: int):
        self.index = index
        self.server = server
        self.receiver = receiver
        self.voices = voices
        self.ledger = ledger
        self.clock = clock
        self.rng = random.Random(seed)

    def act(self, kind: str) -> Outcome:
        """One action of ``kind``, recorded in the ledger; a bug of the client's is an outcome too."""
        started = self.clock()
        codes: list[str] = []
        try:
            variant, ok, results = getattr(self, f"_{kind}")(codes)
        except ConnectionLost:
            variant, ok, results = "-", False, 0
            codes.append("connectionLost")
        except Exception as error:
            variant, ok, results = "-", False, 0
            codes.append(f"client{type(error).__name__}")
            self.ledger.note(f"client {self.index}, {kind}: {traceback.format_exc(limit=3)}")
        ended = self.clock()
        if "connectionLost" in codes and not self.server.down_during(started, ended):
            codes = ["connectionDropped" if code == "connectionLost" else code for code in codes]
        outcome = Outcome(kind, variant, started, ended, ok, results, tuple(codes))
        self.ledger.record(outcome)
        return outcome

    # ---- tasks over HTTP ------------------------------------------------------------------------
    def _generation(self, results: int | None = None, output_type: str | None = None) -> dict:
        rng = self.rng
        fmt = rng.choice(FORMATS)
        body = {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "model": "runware:dia2@2b",
                "speech": {"text": rng.choice(SCRIPTS)}, "numberResults": results or rng.randint(1, 4),
                "outputFormat": fmt, "outputType": output_type or rng.choice(OUTPUT_TYPES)}
        if fmt in LOSSY_SETTINGS and rng.random() < 0.5:
            body["audioSettings"] = rng.choice(LOSSY_SETTINGS[fmt])
        if rng.random() < 0.5:
            body["seed"] = rng.randrange(2**31 - 8)
        if rng.random() < 0.3:
            body["includeCost"] = True
        if rng.random() < 0.2:
            body["settings"] = {"temperature": rng.choice((0.5, 0.8)), "topK": rng.choice((30, 80))}
        if body["outputType"] == "URL" and rng.random() < 0.2:
            body["ttl"] = rng.choice((SHORT_TTL_S, 7200))
        return body

    def _send(self, kind: str, body: dict, codes: list[str], **deliveries) -> tuple[SentTask, int, dict]:
        task = SentTask(body["taskUUID"], kind, body, self.clock(), **deliveries)
        self.ledger.sent(task)
        status, answer = self.server.post([body], codes)
        codes.extend(error["code"] for error in answer.get("errors", ()))
        if status == 200:
            self.ledger.accepted(task.task_uuid)
        return task, status, answer

    def _settled(self, task: SentTask, codes: list[str]) -> list[dict] | None:
        """getResponse until the task settles: its items, or None if it did not in time."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while time.monotonic() < deadline:
            status, answer = self.server.get_response(task.task_uuid, codes)
            items = answer.get("data", [])
            if status == 200 and items and all(item["status"] != "processing" for item in items):
                return items
            if status != 200:
                codes.extend(error["code"] for error in answer.get("errors", ()))
                return None
            time.sleep(0.25)
        codes.append("notSettled")
        return None

    def _audio(self, task: SentTask, item: dict) -> bytes:
        if task.output_type == "URL":
            status, content = self.server.request("GET", item["audioURL"])
            return content if status == 200 else b""
        if task.output_type == "base64Data":
            return base64.b64decode(item["audioBase64Data"])
        header, _, payload = item["audioDataURI"].partition(",")
        if header != f"data:{MIME[task.body['outputFormat']]};base64":
            return b""
        return base64.b64decode(payload)

    def _keep(self, task: SentTask, items: list[dict] | None, codes: list[str]) -> tuple[bool, int]:
        """A task's items checked (each result there, its audio in its format) and kept in the
        ledger: (all well, results finished)."""
        if items is None:
            return False, 0
        failed = [item for item in items if item.get("status") == "error"]
        if failed:
            codes.extend(f"taskFailed:{item['code']}" for item in failed)
            return False, 0
        kept = 0
        for item in items:
            content = self._audio(task, item)
            if not audio_is(task.body["outputFormat"], content):
                codes.append("badAudio")
                continue
            self.ledger.saw(SeenResult(task.task_uuid, item["audioUUID"], item["seed"],
                                       hashlib.sha256(content).hexdigest(), self.clock(), self.server.life))
            kept += 1
        if kept != task.number_results or len({item["audioUUID"] for item in items}) != len(items):
            codes.append("missingResult")
            return False, kept
        return True, kept

    def _sync(self, codes: list[str]) -> tuple[str, bool, int]:
        body = self._generation()
        task, status, answer = self._send("sync", body, codes)
        ok, results = self._keep(task, answer.get("data") if status == 200 else None, codes)
        return body["outputType"], ok, results

    def _async(self, codes: list[str]) -> tuple[str, bool, int]:
        body = self._generation() | {"deliveryMethod": "async"}
        task, status, answer = self._send("async", body, codes)
        if status != 200:
            return body["outputType"], False, 0
        if answer["data"] != [{"taskType": "audioInference", "taskUUID": task.task_uuid}]:
            codes.append("badAcknowledgement")
        ok, results = self._keep(task, self._settled(task, codes), codes)
        return body["outputType"], ok, results

    def _voice(self, codes: list[str]) -> tuple[str, bool, int]:
        rng = self.rng
        variant = rng.choice(("known", "known audio", "new", "new uploaded", "two known"))
        if variant == "known":
            audios = [self.voices.known_uuids[0]]
        elif variant == "known audio":  # the uploaded voice's bytes again: the same stored entry
            audios = ["data:audio/wav;base64," + base64.b64encode(self.voices.known_audio[0]).decode()]
        elif variant == "new":
            audios = [base64.b64encode(self.voices.new(rng)).decode()]
        elif variant == "new uploaded":
            _, answer = self.server.post([{"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()),
                                           "operation": "upload",
                                           "media": base64.b64encode(self.voices.new(rng)).decode()}], codes)
            if "errors" in answer:
                codes.extend(error["code"] for error in answer["errors"])
                return variant, False, 0
            audios = [answer["data"][0]["mediaUUID"]]
        else:
            audios = list(self.voices.known_uuids)
        body = self._generation(results=rng.randint(1, 2)) | {"inputs": {"audios": audios}}
        if rng.random() < 0.5:
            body["deliveryMethod"] = "async"
        task, status, answer = self._send("voice", body, codes)
        if status != 200:
            return variant, False, 0
        items = self._settled(task, codes) if body.get("deliveryMethod") == "async" else answer["data"]
        ok, results = self._keep(task, items, codes)
        return variant, ok, results

    def _webhook(self, codes: list[str]) -> tuple[str, bool, int]:
        fail = self.rng.choice((0, 0, 1, 2, 3))
        token, url = self.receiver.url("hook", fail)
        body = self._generation(results=self.rng.randint(1, 3), output_type="URL") | {"webhookURL": url}
        body.pop("ttl", None)  # a webhook's result is checked at the end: it must still be there
        task, status, _ = self._send("webhook", body, codes, webhook=token)
        if status != 200:
            return f"down {fail}", False, 0
        landed = self.receiver.wait_for(token, task.number_results, LANDING_TIMEOUT_S)
        uuids = [audio_uuid for call in landed for audio_uuid in call.audio_uuids]
        for audio_uuid in uuids:
            self.ledger.saw(SeenResult(task.task_uuid, audio_uuid, None, None, self.clock(), self.server.life))
        ok = len(uuids) == task.number_results == len(set(uuids))
        if not ok:
            codes.append("webhookMissing" if len(uuids) < task.number_results else "webhookTwice")
        return f"down {fail}", ok, len(set(uuids))

    def _upload(self, codes: list[str]) -> tuple[str, bool, int]:
        fail = self.rng.choice((0, 0, 1, 2))
        token, url = self.receiver.url("put", fail)
        body = self._generation(results=1) | {"uploadEndpoint": url}
        body.pop("ttl", None)
        asynchronous = self.rng.random() < 0.5
        if asynchronous:
            body["deliveryMethod"] = "async"
        task, status, answer = self._send("upload", body, codes, upload=token)
        if status != 200:
            return f"down {fail}", False, 0
        ok, results = self._keep(task, self._settled(task, codes) if asynchronous else answer["data"], codes)
        landed = self.receiver.wait_for(token, 1, LANDING_TIMEOUT_S)
        (made,) = self.ledger.seen_of(task.task_uuid) or (None,)
        if len(landed) != 1 or made is None or landed[0].sha256 != made.sha256:
            codes.append("uploadMissing" if not landed else "uploadTwice" if len(landed) > 1 else "uploadChanged")
            ok = False
        return f"down {fail}", ok, results

    def _poll(self, codes: list[str]) -> tuple[str, bool, int]:
        """getResponse of a task finished earlier: every result still there, the same ones."""
        finished = [task for task in self.ledger.finished_tasks() if task.ttl_s != SHORT_TTL_S]
        if not finished:
            return "nothing yet", True, 0
        task = self.rng.choice(finished)
        status, answer = self.server.get_response(task.task_uuid, codes)
        got = {item.get("audioUUID"): item.get("seed") for item in answer.get("data", [])}
        seen = {result.audio_uuid: result.seed for result in self.ledger.seen_of(task.task_uuid)}
        ok = status == 200 and set(got) == set(seen) and all(seed is None or got[key] == seed
                                                             for key, seed in seen.items())
        if not ok:
            codes.append("resultChanged")
            self.ledger.note(f"getResponse of {task.task_uuid} ({task.kind}) answered {status}: {sorted(got)}, "
                             f"seen before: {sorted(seen)}")
        return task.kind, ok, 0

    # ---- live takes -------------------------------------------------------------------------------
    def _live(self, codes: list[str]) -> tuple[str, bool, int]:
        rng = self.rng
        variant = rng.choice(LIVE_VARIANTS)
        voice = rng.choice((None, None, "known", "new"))
        fields: dict = {"seed": rng.randrange(2**31)}
        if voice == "known":
            fields["inputs"] = {"audios": [self.voices.known_uuids[1]]}
        elif voice == "new":
            fields["inputs"] = {"audios": [base64.b64encode(self.voices.new(rng)).decode()]}
        if rng.random() < 0.3:
            fields |= {"outputFormat": "pcm_s16le", "audioSettings": {"sampleRate": 16000}}
        label = f"{variant}, {voice or 'no'} voice"
        try:
            return label, *self._live_take(variant, fields, codes)
        except (ConnectionClosed, InvalidHandshake, OSError) as error:
            if isinstance(error, OSError) and not is_connection_error(error):
                raise
            codes.append("connectionLost")
            return label, False, 0

    def _live_take(self, variant: str, fields: dict, codes: list[str]) -> tuple[bool, int]:
        for _ in range(20):  # another client's live take has the model: wait a little, as a caller would
            self.server.wait_up()
            client = LiveClient(self.server.base)
            ready = client.start(**fields)
            if ready["type"] == "ready":
                break
            client.close()
            codes.append(ready.get("code", "liveRefused"))
            if ready.get("code") != "modelBusy":
                return False, 0
            time.sleep(self.rng.uniform(0.5, 1.5))
        else:
            return False, 0
        with client:
            pieces = text_pieces(self.rng.choice(SCRIPTS))
            if variant == "silent":
                pieces = pieces[: max(1, len(pieces) // 2)]  # then nothing: the idle timeout ends it
            for piece in pieces:
                client.text(piece)
                time.sleep(0.01)
            heard = Heard()
            if variant == "finished":
                client.send("end")
            elif variant in ("cancelled", "abandoned"):
                _first_audio(client, heard, LEAVE_WITHIN_S)
                if variant == "abandoned":  # gone without a goodbye, as a client killed mid-take
                    client.socket.socket.shutdown(socket.SHUT_RDWR)
                    return True, 0
                if heard.done is None and heard.error is None:
                    client.send("cancel")
            if heard.done is None and heard.error is None:
                heard = client.hear(heard)
        expected = {"finished": "end", "cancelled": "cancelled", "silent": "idle"}[variant]
        done = heard.done
        if done is None or done["reason"] != expected:
            codes.append(heard.error["code"] if heard.error else f"liveEnded:{done and done['reason']}")
            return False, 0
        return True, int(done["audioS"] > 0)

    # ---- WebSocket sessions ---------------------------------------------------------------------
    def _ws(self, codes: list[str]) -> tuple[str, bool, int]:
        variant = self.rng.choice(("whole", "dropped and resumed"))
        body = self._generation(results=self.rng.randint(2, 3))
        body.pop("ttl", None)
        task = SentTask(body["taskUUID"], "ws", body, self.clock())
        self.ledger.sent(task)
        items: dict[str, dict] = {}
        try:
            session = self._ws_session(task, None, items, 1 if variant != "whole" else task.number_results, codes)
            if variant != "whole" and len(items) < task.number_results:
                time.sleep(self.rng.uniform(0.1, 1.0))
                self._ws_session(task, session, items, task.number_results, codes)
        except (ConnectionClosed, InvalidHandshake, OSError) as error:
            if not is_connection_error(error) and not isinstance(error, (ConnectionClosed, InvalidHandshake)):
                raise
            codes.append("connectionLost")
        if len(items) < task.number_results:  # what the session did not bring, fetched as a client would
            settled = self._settled(task, codes)
            if settled is not None:
                self.ledger.accepted(task.task_uuid)
            items |= {item.get("audioUUID"): item for item in settled or []}
        ok, results = self._keep(task, list(items.values()) if items else None, codes)
        return variant, ok, results

    def _ws_session(self, task: SentTask, session: str | None, items: dict[str, dict], want: int,
                    codes: list[str]) -> str:
        """A session at /v1 (``session``: the one to resume; None: a new one, which sends the
        task) reading the task's result frames into ``items`` until it holds ``want`` of them, or
        the task has settled without the session sending them all; the session's UUID."""
        self.server.wait_up()
        with connect(self.server.base.replace("http://", "ws://") + "/v1", max_size=None) as ws:
            ws.send(json.dumps([{"taskType": "authentication", "apiKey": "soak"}
                                | ({"connectionSessionUUID": session} if session else {})]))
            (authenticated,) = json.loads(ws.recv(timeout=60))["data"]
            got = authenticated["connectionSessionUUID"]
            if session is None:
                ws.send(json.dumps([task.body, {"taskType": "ping", "ping": True}]))
            elif got != session:
                codes.append("sessionNotResumed")  # e.g. the server restarted meanwhile
                return got
            deadline = time.monotonic() + SETTLE_TIMEOUT_S
            while len(items) < want and time.monotonic() < deadline:
                try:
                    frame = json.loads(ws.recv(timeout=5))
                except TimeoutError:
                    status, answer = self.server.get_response(task.task_uuid, codes)
                    if status == 200 and all(item["status"] != "processing" for item in answer["data"]):
                        codes.append("resumeMissedResult" if session else "wsResultMissing")
                        return got
                    continue
                for error in frame.get("errors", ()):
                    codes.append(error["code"])
                    if error.get("taskUUID") == task.task_uuid:
                        return got
                for item in frame.get("data", ()):
                    if item.get("taskUUID") == task.task_uuid and item.get("status") == "success":
                        self.ledger.accepted(task.task_uuid)
                        items[item["audioUUID"]] = item
            return got
