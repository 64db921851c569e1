"""Where the model runs, behind one interface (``core.engine.engine.Engine``): in the studio's own
process, in a process of its own on this machine, or on another machine's ``dia-studio serve``."""
