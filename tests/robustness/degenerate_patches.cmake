# Degenerate patches (issue #19, "One degenerate patch fails the whole frame"): a patch whose normal matrix is
# not numerically positive definite is solved again with the stronger prior; what still fails gets ivar 0 and
# BAD2DFIT on its core bins only. The frame completes with finite values, the summary line counts the
# unsolved bins, and fibers that share no patch with the defect keep their ivar (against a reference frame
# extracted from the same inputs without the defect). Included by CMakeLists.txt (uses its RB_* variables).
set(RB_DEG ${RB_DIR}/degenerate)
file(MAKE_DIRECTORY ${RB_DEG})  # also when the input maker skips (a CUDA build without a GPU)
add_test(NAME robust_degenerate_inputs COMMAND ${RB_TOOL} make-degenerate ${RB_DEG} ${RB_PSF} ${RB_PRE})
set_tests_properties(robust_degenerate_inputs PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED robust_inputs FIXTURES_SETUP robust_degenerate LABELS robustness)
add_test(NAME robust_degenerate_reference
  COMMAND perfex extract --input ${RB_PRE} --psf ${RB_PSF} --output ${RB_DEG}/reference.fits
          --wavelength ${RB_GRID} --nspec 25 --float64 --overwrite)
set_tests_properties(robust_degenerate_reference PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED robust_degenerate FIXTURES_SETUP robust_degenerate_reference LABELS robustness)

# robust_degenerate(<name> <reference or -> <first fiber> <last fiber> <all or ""> <extract arguments...>)
function(robust_degenerate name reference lo hi all)
  add_test(NAME robust_degenerate_${name}
    COMMAND perfex extract --output ${RB_DEG}/${name}.fits --nspec 25 --float64 --overwrite ${ARGN})
  set_tests_properties(robust_degenerate_${name} PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
    FIXTURES_REQUIRED "robust_degenerate;robust_degenerate_reference" FIXTURES_SETUP robust_degenerate_${name}
    LABELS robustness PASS_REGULAR_EXPRESSION "wrote .*${name}\\.fits: 25 fibers .*, [0-9]+ bins unsolved")
  add_test(NAME robust_degenerate_${name}_flagged
    COMMAND ${RB_TOOL} check-unsolved ${RB_DEG}/${name}.fits ${reference} ${lo} ${hi} ${all})
  set_tests_properties(robust_degenerate_${name}_flagged PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
    FIXTURES_REQUIRED "robust_degenerate_${name};robust_degenerate_reference" LABELS robustness)
endfunction()

# Fiber 2 duplicates fiber 3 (1e-6 pixel apart): their subbundle's patches (fibers 0..4) cannot be solved.
robust_degenerate(duplicate_fiber ${RB_DEG}/reference.fits 0 4 all
  --input ${RB_PRE} --psf ${RB_DEG}/psf-duplicate-fiber.fits --wavelength ${RB_GRID})
# One pixel with IVAR 1e20 on fiber 12's trace used to lose the patches of fibers 10..14 around 6200 A; such a
# pixel is now masked (core/pixel_limits.hpp), and one of the largest IVAR extraction uses (1e10, 1e11 times
# its neighbours') leaves every patch solvable: the frame is complete, no bin unsolved.
foreach(name huge_ivar max_ivar)
  string(REPLACE "_" "-" file ${name})
  add_test(NAME robust_degenerate_${name}
    COMMAND perfex extract --output ${RB_DEG}/${name}.fits --nspec 25 --float64 --overwrite
            --input ${RB_DEG}/preproc-${file}.fits --psf ${RB_PSF} --wavelength ${RB_GRID})
  set_tests_properties(robust_degenerate_${name} PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
    FIXTURES_REQUIRED robust_degenerate LABELS robustness
    PASS_REGULAR_EXPRESSION "wrote .*${name}\\.fits: 25 fibers .*bins masked" FAIL_REGULAR_EXPRESSION "bins unsolved")
endforeach()
# A 0.02 A step: adjacent bins' spots nearly coincide; the patches whose normal matrix falls below the pivot
# threshold are lost, the others are solved (with a tiny ivar).
robust_degenerate(tiny_step - 0 24 "" --input ${RB_PRE} --psf ${RB_PSF} --wavelength 6200,6210,0.02)
