"""The appliance's main job: the fixed-rate control loop, runner presence, the session state machine,
systemd notify/watchdog, and the controller the panel steers (see ``controller.py`` for the contract).
"""
