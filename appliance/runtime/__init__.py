"""The appliance's main job: the fixed-rate control loop, runner presence, the session state machine,
systemd notify/watchdog, and the controller the panel steers.

Public API::

    from appliance.runtime.app import Runtime, RunOptions
    from appliance.runtime.settings_changes import needs_restart
    rt = Runtime(settings, RunOptions(source="sim", data_dir=d, speed=10, demo=True, panel=False))
    rt.start()                      # store, hardware (frames + pose, outputs, button), loop, panel
    rt.start_session(runner_id)     # ... the ApplianceController protocol (controller.py)
    rt.run(duration_s, stop_event)  # main thread: watchdog pings while healthy, STATUS lines
    rt.shutdown()                   # < 2 s; a running session is stored as interrupted

Modules: ``app.py`` (``Runtime``: the start-up and shutdown sequences; the hardware, real or
simulated, is chosen once by ``appliance.hardware``, which opens the frames and their pose provider,
audio, lights and button), ``parts.py`` (what start-up opens beside the hardware: the store, heavy
looks, the button's actions), ``panel_controller.py`` (``PanelController``, what the panel steers),
``controller.py`` (the contract with the panel: ``ApplianceController``, ``LiveSnapshot``,
``CameraSnapshot``, ``Health``, ``ControllerError``), ``panel_server.py`` (uvicorn on its thread),
``capture.py`` (newest-frame capture thread), ``loop.py`` (one tick per frame: pose, gait, presence,
session, outputs, store), ``session.py`` (idle -> calibrating -> warm-up -> blocks -> retention ->
summary -> idle, pause/resume), ``session_service.py`` (the stored session, its programme, targets
and coach), ``demo.py`` (the demo runner and its session), ``watchdog.py`` (watchdog pings, STATUS
lines, stopping the loop), ``stage_fault_memory.py`` (whether a restart helps a failing stage),
``presence.py`` (absent/standing/walking/running), ``stats.py`` (loop period, jitter, stage times,
drops, deadline misses), ``notify.py`` (sd_notify over NOTIFY_SOCKET), ``camera_view.py`` (set-up
snapshot and framing advice), ``settings_changes.py`` (what a settings change touches, and which
changes wait for a restart), ``data_upkeep.py`` (scheduled backup and retention), ``host.py`` (CPU
temperature, Pi throttling), ``errors.py`` (``StartupError``). Coach events become sound and light
in ``appliance.outputs.cue_player.CuePlayer``.
"""
