"""`python -m cloudcore.mlquality`: the ML mask's quality report (cloudcore.evaluation.mlquality)."""

from .evaluation.mlquality import main

if __name__ == "__main__":
    raise SystemExit(main())
