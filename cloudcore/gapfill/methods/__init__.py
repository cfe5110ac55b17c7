"""The fill methods, one module each; `cloudcore.gapfill.registry` finds every `FillMethod` here."""
