"""Sample data for the demo, the tests and the benchmark; not used by the pipeline itself.

- ``inbox`` — the sample inbox generator (``generate``; ``DESIGNED_STATUS``, where each indicator is
  designed to land), built from
  - ``population`` — the enterprise population and its calibrated monthly figures,
  - ``events`` — event lists and department figures (projects, 整治台账, 任务月报, 主要指标),
  - ``writers`` — the departments' file formats (CSV/xlsx quirks), streamed as rows arrive;
- ``bulletin`` — a small warehouse state and an indicators document for one month, to render and
  test the bulletin without running the pipeline.
"""

from .inbox import DESIGNED_STATUS, generate

__all__ = ["DESIGNED_STATUS", "generate"]
