// Inputs and outputs of perfex extract and extract-exposure, checked for outputs that would destroy an input.
#include "perfex/drivers/command_files.hpp"

#include <filesystem>

#include "perfex/io/file_checks.hpp"

namespace perfex::drivers {

void check_extract_files(const ExtractArgs& a) {
  std::vector<io::NamedFile> outputs;
  if (!a.no_output) outputs.push_back({"-o/--output", a.output});
  if (!a.model.empty()) outputs.push_back({"-m/--model", a.model});
  io::check_distinct_files({{"-i/--input", a.input}, {"-p/--psf", a.psf}, {"-f/--fibermap", a.fibermap}}, outputs);
}

void check_exposure_files(const std::vector<FrameTask>& tasks, const ExposureArgs& a) {
  std::vector<io::NamedFile> inputs, outputs;
  std::error_code ec;
  if (!std::filesystem::is_directory(a.source, ec)) inputs.push_back({"the manifest", a.source});
  inputs.push_back({"-f/--fibermap", a.extract.fibermap});
  const bool frame_files = a.hdf5_exposure.empty();  // else the outputs only name the exposure file's groups
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const std::string frame = a.source + ": frame " + std::to_string(i + 1);
    inputs.push_back({frame + " input", tasks[i].input});
    inputs.push_back({frame + " PSF", tasks[i].psf});
    if (frame_files) outputs.push_back({frame + " output", tasks[i].output});
  }
  if (!frame_files) outputs.push_back({"--hdf5-exposure", a.hdf5_exposure});
  io::check_distinct_files(inputs, outputs);
}

}  // namespace perfex::drivers
