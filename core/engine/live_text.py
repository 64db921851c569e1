"""A live take's text messages, applied to the take at the far end of a relay (the own process's
child, a server's /v1/engine): ``("text", str)``, ``("end",)`` or ``("cancel",)``. Text whose markup
the model cannot follow cancels the take; the refusal is kept, to be raised after the take's last
event, so the near end keeps what was made and hears why, as ``push_text`` raises it in-process."""

from __future__ import annotations


class LiveText:
    def __init__(self, take) -> None:
        self.take = take
        self.refused: Exception | None = None

    def apply(self, kind: str, text: str = "") -> bool:
        """Give the take one message; False once its text was refused (it is cancelled then)."""
        if self.refused is not None:
            return False
        try:
            if kind == "text":
                self.take.push_text(text)
            elif kind == "end":
                self.take.end_text()
            else:
                self.take.cancel()
        except Exception as error:  # markup the model cannot follow (or a take that broke)
            self.refused = error
            self.take.cancel()
            return False
        return True

    def raise_refusal(self) -> None:
        """After the take's last event: what it refused, if anything."""
        if self.refused is not None:
            raise self.refused
