"""The one approval mechanism (审批) every process uses: see README "How a click reaches the waiting flow"."""
