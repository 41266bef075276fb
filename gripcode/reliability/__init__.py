"""Intercoder reliability: kappa, Krippendorff's alpha, percent agreement and unitized alpha.

Each statistic's docstring states its unit, its chance model and its published source.
"""

from gripcode.reliability.statistics import cohen_kappa, fleiss_kappa, krippendorff_alpha, percent_agreement
from gripcode.reliability.unitized import unitized_alpha, unitized_alpha_by_value

__all__ = [
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "percent_agreement",
    "unitized_alpha",
    "unitized_alpha_by_value",
]
