# Like http_logs' track.py: a track processor that rewrites the field names
# of some tasks' queries after loading, and esrally's own preparator.
import re
from copy import copy

from esrally.track import loader


class FieldRenamer(loader.TrackProcessor):
    PATTERN = re.compile(".+-from-(.+)-using-(.+)")

    def on_after_load_track(self, t):
        for challenge in t.challenges:
            for task in challenge.schedule:
                m = self.PATTERN.match(task.name)
                if m is not None:
                    task.operation = copy(task.operation)
                    task.operation.params = rename(task.operation.params, f"{m[2]}.from_{m[1]}.")

    def on_prepare_track(self, track, data_root_dir):
        return []


def rename(params, prefix):
    return params  # "register_runner('not-a-registration')" in a string is no registration


def register(registry):
    registry.register_track_processor(FieldRenamer())
    registry.register_track_processor(loader.DefaultTrackPreparator())
