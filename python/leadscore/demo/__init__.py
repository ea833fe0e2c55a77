"""Demo data, kept apart from the product: the funnel simulator behind ``leadscore generate``
(``generate``, with the true probabilities the evaluation reads as its oracle) and another
CRM's vocabulary for the same data (``vocabulary``). Nothing in leadscore's build, training or
scoring imports this package.
"""
