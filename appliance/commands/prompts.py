"""``appliance prompts``: render the spoken prompts with espeak-ng into the cache (provisioning runs it)."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("prompts", help="render the spoken prompts (espeak-ng) into the prompt cache")
    p.add_argument("--dir", type=Path, default=None, help="prompt cache directory (default: from config)")
    p.add_argument("--voice", default=None, help="espeak-ng voice (default: audio.voice from config)")
    p.add_argument("--force", action="store_true", help="render every prompt again")
    p.add_argument("--list", action="store_true", help="list the prompts and their words, render nothing")
    p.add_argument("--config", type=Path, default=None, help="config file")
    p.set_defaults(func=run)


def run(args) -> int:
    from appliance.cli import CommandError
    from appliance.config import load_settings
    from appliance.outputs.engine import prompts_dir_for
    from appliance.outputs.prompts import PromptBank, PromptError

    settings = load_settings(args.config)
    audio = settings.audio
    directory = args.dir or prompts_dir_for(audio, settings.storage.data_dir)
    try:
        bank = PromptBank(directory, audio.sample_rate, args.voice or audio.voice, audio.prompt_texts)
        if args.list:
            for name, text in bank.texts.items():
                print(f"{name}: {text}")
            return 0
        rendered = bank.render(force=args.force)
    except (PromptError, OSError) as e:
        raise CommandError(str(e)) from e
    print(f"{len(rendered)} prompt(s) rendered, {len(bank.texts) - len(rendered)} up to date in {directory}")
    return 0
