"""Shared runtime of the ai4cop components: contract stubs, server factory, settings, errors."""
