"""E6: one training step of the exam's GAN — the discriminator first, then the generator through
the updated discriminator — on the layers' manual backward passes, worked per example by hand."""

from jaxdl.exams.gan import compute, errata, family, text
from jaxdl.exams.gan.compute import by_hand, exam_setup
from jaxdl.exams.problem import Problem

__all__ = ["PROBLEM", "by_hand", "exam_setup"]

PROBLEM = Problem(name="gan", config="exam_gan", solve=compute.solve, report=compute.report,
                  questions=text.questions, sheet=text.sheet, errata=errata.errata, family=family.FAMILY)
