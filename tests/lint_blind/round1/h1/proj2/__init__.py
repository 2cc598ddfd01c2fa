"""Speech-command keyword spotting: model, engine and entry point."""
