"""The local runner: a blueprint's nodes as local processes (``ai4cop up``/``run``) and the CO demo
(``ai4cop demo``). Above the components, below the deployment tools (``onboarding/``)."""
