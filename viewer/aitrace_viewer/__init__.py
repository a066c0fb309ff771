"""aitrace_viewer: the aitrace server, store and browser viewer."""
