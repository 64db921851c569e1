"""The studio's logic without its window: the document turned into requests (the voices, the
lines before), takes turned back into the document, and the dialogue as heard and exported. The
window, the command line and the server share it."""
