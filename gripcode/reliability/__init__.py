"""Intercoder reliability: kappa, Krippendorff's alpha (with a bootstrapped interval), Gwet's AC1, percent
agreement and unitized alpha.

Each statistic's docstring states its unit, its chance model and its published source.
"""

from gripcode.reliability.bootstrap import BootstrapAlpha, bootstrap_alpha
from gripcode.reliability.statistics import (
                                              cohen_kappa,
                                              fleiss_kappa,
                                              gwet_ac1,
                                              krippendorff_alpha,
                                              percent_agreement,
)
from gripcode.reliability.unitized import unitized_alpha, unitized_alpha_by_value

__all__ = [
    "BootstrapAlpha",
    "bootstrap_alpha",
    "cohen_kappa",
    "fleiss_kappa",
    "gwet_ac1",
    "krippendorff_alpha",
    "percent_agreement",
    "unitized_alpha",
    "unitized_alpha_by_value",
]
