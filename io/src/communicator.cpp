// The communicator interface's broadcasts of variable-size values, built on broadcast_bytes.
#include "perfex/io/communicator.hpp"

namespace perfex::io {

void Communicator::broadcast(std::string& text, int root) const {
  if (size() == 1) return;
  unsigned long long n = text.size();
  broadcast(n, root);
  text.resize(static_cast<std::size_t>(n));
  broadcast_bytes(text.data(), text.size(), root);
}

void Communicator::broadcast(std::vector<double>& values, int root) const {
  if (size() == 1) return;
  unsigned long long n = values.size();
  broadcast(n, root);
  values.resize(static_cast<std::size_t>(n));
  broadcast_bytes(values.data(), values.size() * sizeof(double), root);
}

void Communicator::broadcast(std::vector<std::string>& texts, int root) const {
  if (size() == 1) return;
  unsigned long long n = texts.size();
  broadcast(n, root);
  texts.resize(static_cast<std::size_t>(n));
  for (std::string& t : texts) broadcast(t, root);
}

}  // namespace perfex::io
