"""The instructor side of the course: an nbgrader 0.9 pipeline driven by the ``labgrade`` command.

release   nbgrader generate_assignment, then prove the source passes and the release fails every
          graded cell (nbgrader's Validator)                                  -> release.py
grade     autograde every submission in its own process, with time limits; a broken or hostile
          submission never stops the others                                   -> grade.py, worker.py
feedback  nbgrader generate_feedback: check messages, never hidden test code   -> feedback.py
report    CSV per student x notebook x test cell, totals (an nbgrader export
          plugin), a printed summary                                          -> report.py
demo      all of it on every assignment's sample class                        -> demo.py, sample_class.py

The course directory is a plain nbgrader course (course.py writes its nbgrader_config.py), so the
stock ``nbgrader`` commands keep working on it; labgrade opens it once (course.Course) and runs
nbgrader through its NbGraderAPI. Assignments are discovered: every notebooks/<name>/<name>.ipynb.
"""
