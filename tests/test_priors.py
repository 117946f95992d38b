"""Ex-post latent priors: the mixture fit recovers clusters, draws follow the fit, bad keys are refused."""

import pytest
import torch

from bsd.priors import fit_gaussian, fit_gmm, fit_prior, log_prob, sample_mixture


def _clusters(n: int = 3000, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    centres = torch.tensor([[0.0, 0.0, 0.0], [5.0, 0.0, 1.0], [0.0, 6.0, -2.0]])
    share = torch.tensor([0.5, 0.3, 0.2])
    c = torch.multinomial(share, n, replacement=True, generator=g)
    return centres[c] + 0.3 * torch.randn(n, 3, generator=g), centres


def test_gmm_recovers_separated_clusters_and_their_weights():
    z, centres = _clusters()
    w, mu, chol = fit_gmm(z, 3, seed=1)
    order = torch.cdist(centres, mu.float()).argmin(1)  # fitted component nearest to each true centre
    assert sorted(order.tolist()) == [0, 1, 2]
    assert torch.allclose(mu[order].float(), centres, atol=0.05)
    assert torch.allclose(w[order].float(), torch.tensor([0.5, 0.3, 0.2]), atol=0.03)
    std = torch.sqrt(torch.diagonal(chol @ chol.transpose(1, 2), dim1=1, dim2=2))
    assert torch.allclose(std.float(), torch.full((3, 3), 0.3), atol=0.03)


def test_a_mixture_fits_clustered_codes_better_than_one_gaussian():
    z, _ = _clusters()
    one = torch.logsumexp(log_prob(z.double(), fit_gaussian(z)), 1).mean()
    three = torch.logsumexp(log_prob(z.double(), fit_gmm(z, 3)), 1).mean()
    assert three > one + 1.0


def test_draws_follow_the_fitted_mixture():
    z, centres = _clusters()
    mix = tuple(t.float() for t in fit_gmm(z, 3))
    x = sample_mixture(mix, 20000, torch.Generator().manual_seed(0))
    near = torch.cdist(x, centres).argmin(1)
    share = torch.bincount(near, minlength=3).float() / len(x)
    assert torch.allclose(share, torch.tensor([0.5, 0.3, 0.2]), atol=0.02)
    g1 = tuple(t.float() for t in fit_gaussian(z))
    y = sample_mixture(g1, 20000, torch.Generator().manual_seed(0))
    assert torch.allclose(y.mean(0), z.mean(0), atol=0.1)
    assert torch.allclose(torch.cov(y.T), torch.cov(z.T), atol=0.2)


def test_bad_prior_settings_are_refused():
    z, _ = _clusters(100)
    with pytest.raises(ValueError, match="model.latent_prior"):
        fit_prior(z, "flow")
    with pytest.raises(ValueError, match="model.latent_components"):
        fit_gmm(z, 0)
